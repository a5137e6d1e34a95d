"""Tasks for secretaries: 谈心谈话 on a political birthday, follow-ups after absences; `完成 N` closes one.

A task's number comes from the shared `#N` sequence (`approvals.next_number(session, "task")`); its
unique `key` makes creating the same task twice (a job run again) a no-op.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot import audit, clock, notify, texts
from bot.models import Member, Task
from bot.notify_group import Batch
from bot.refusal import Refusal
from bot.services import approvals


class TaskError(Refusal):
    """An expected refusal; the message is the Chinese reply."""


def secretaries(session: Session, branch_id: int | None) -> list[Member]:
    """Active secretaries of a branch; its deputies when it has none."""
    if branch_id is None:
        return []
    people = list(session.exec(select(Member).where(Member.branch_id == branch_id, Member.active)
                               .order_by(col(Member.id))))
    found = [m for m in people if m.has_role("secretary")]
    return found or [m for m in people if m.has_role("deputy")]


def takers(session: Session, branch_id: int | None, subject: Member | None) -> list[Member]:
    """Who is told of a task about `subject`: the branch's secretaries, else its deputies, never the subject
    himself (a secretary is not asked to visit himself); when that leaves nobody, the committee."""
    sid = subject.id if subject is not None else None
    people: list[Member] = []
    if branch_id is not None:
        people = list(session.exec(select(Member).where(Member.branch_id == branch_id, Member.active)
                                   .order_by(col(Member.id))))
    for role in ("secretary", "deputy"):
        found = [m for m in people if m.has_role(role) and m.id != sid]
        if found:
            return found
    return [m for m in committee(session) if m.id != sid]


def committee(session: Session) -> list[Member]:
    """Active committee (党委) members."""
    people = session.exec(select(Member).where(Member.active, col(Member.roles).like("%committee%"))
                          .order_by(col(Member.id)))
    return [m for m in people if m.has_role("committee")]


def create(session: Session, config: Any, *, key: str, kind: str, branch_id: int | None, member: Member | None,
           summary: str, tell: list[Member] | None = None, batch: Batch | None = None) -> tuple[Task, bool]:
    """The task with this key, creating it (and telling `tell`, default its `takers`) when new. With a
    `batch` the task is added to it (one message per person per job) instead of being sent alone."""
    existing = session.exec(select(Task).where(Task.key == key)).first()
    if existing is not None:
        return existing, False
    task = Task(number=approvals.next_number(session, "task"), key=key[:128], kind=kind, branch_id=branch_id,
                member_id=member.id if member else None, summary=summary[:200], created_at=clock.now())
    session.add(task)
    session.flush()
    audit.record(session, "system", f"task_{kind}", f"#{task.number}", task.summary)
    people = tell if tell is not None else takers(session, branch_id, member)
    if people:
        text = texts.t("task.new", number=task.number, summary=task.summary)
        if batch is not None:
            batch.add(people, f"task:{task.number}", texts.t("task.line", number=task.number, summary=task.summary),
                      single=text)
        else:
            notify.members(session, config, people, text, key=f"task:{task.number}", topic="task")
    return task, True


def complete(session: Session, actor: Member, number: int, note: str = "", scope: int | None = None) -> Task:
    task = approvals.get_numbered(session, Task, number, TaskError, "task.not_found")
    branch = scope if scope is not None else actor.branch_id
    if not actor.has_role("committee") and task.branch_id != branch:
        raise TaskError(texts.t("task.not_yours", number=number))
    if task.status == "done":
        raise TaskError(texts.t("task.already", number=number))
    if task.member_id is not None and task.member_id == actor.id:
        raise TaskError(texts.t("task.own", number=number))
    task.status, task.done_at, task.done_by = "done", clock.now(), actor.userid
    task.note = note.strip()[:500] or None
    session.add(task)
    audit.record(session, actor.userid, "task_done", f"#{number}", task.note or "")
    return task


def open_for(session: Session, person: Member) -> list[Task]:
    """Open tasks `person` is among the takers of (as `takers` decides today)."""
    rows = list(session.exec(select(Task).where(Task.status == "open").order_by(col(Task.number))))
    cache: dict[tuple[int | None, int | None], set[int]] = {}
    mine = []
    for task in rows:
        slot = (task.branch_id, task.member_id)
        if slot not in cache:
            subject = session.get(Member, task.member_id) if task.member_id else None
            cache[slot] = {m.id for m in takers(session, task.branch_id, subject) if m.id is not None}
        if person.id in cache[slot]:
            mine.append(task)
    return mine


def open_tasks(session: Session, branch_id: int | None) -> list[Task]:
    stmt = select(Task).where(Task.status == "open").order_by(col(Task.number))
    if branch_id is not None:
        stmt = stmt.where(Task.branch_id == branch_id)
    return list(session.exec(stmt.limit(50)))
