"""Attendance corrections: 补签到 编号 成员 / 准假 编号 成员 原因 (secretaries) and 销假 (a member's own leave).

Before the event closes they change the attendance row (signed in, not late / excused). After it closed they
correct through NEW ledger entries (the ledger is never edited): 补签到 adds `theme_day_attend` and, if the
member was counted absent, an entry reversing the absence (same rule, opposite points, reason naming #N);
准假 reverses the absence. Both close the member's open follow-up task for the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from bot import audit, clock, texts
from bot.enums import PointsRule
from bot.models import Approval, Attendance, LedgerEntry, Member, Task, ThemeDay
from bot.services.member_lookup import one_member, scope
from bot.services.points import core as points
from bot.services.theme_day.agenda import ThemeDayError
from bot.services.theme_day.core import branch_event, current, row, window


@dataclass(frozen=True)
class Correction:
    """补签到 / 准假's outcome for `member` at `event`: `action` is "signin" or "excuse"; `outcome` is "signed"
    (准假 of a member who had signed in), "already" (nothing to do), "done" (before the close) or "after" (after
    the close, `back` points of the absence given back)."""
    action: Literal["signin", "excuse"]
    outcome: Literal["signed", "already", "done", "after"]
    member: Member
    event: ThemeDay
    back: int = 0


def event_for(session: Session, actor: Member, branch_id: int | None, number: int) -> ThemeDay:
    """Event `number` to correct: the branch the command acts on (any for the committee), not cancelled."""
    event = branch_event(session, actor, branch_id, number)
    if event.status == "cancelled":
        raise ThemeDayError(texts.t("theme_day.fix_cancelled", number=event.number))
    return event


def member_for(session: Session, actor: Member, event: ThemeDay, token: str, chosen: bool) -> Member:
    """The member `token` names for a correction of `event`: by name in the event's branch (in the chosen
    branch for `@支部编码`); never another branch's member, never the actor."""
    branches = scope(actor, event.branch_id, chosen)
    member = one_member(session, token, [event.branch_id] if branches is None else branches)
    if member.branch_id != event.branch_id:
        raise ThemeDayError(texts.t("theme_day.fix_not_branch", name=member.name, number=event.number))
    if member.id == actor.id:  # like approvals: nobody corrects their own attendance
        raise ThemeDayError(texts.t("theme_day.fix_own"))
    return member


def _reverse_absence(session: Session, config: Any, actor: Member, event: ThemeDay, member: Member,
                     why: str) -> int:
    """A new entry cancelling the absence deduction of #N (if any); returns the points given back."""
    source = f"theme_day:#{event.number}"
    taken = int(session.exec(select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.member_id == member.id, LedgerEntry.rule == PointsRule.THEME_DAY_ABSENT,
        LedgerEntry.source == source)).one())
    if taken == 0:
        return 0
    points.award(session, config, member, PointsRule.THEME_DAY_ABSENT, on=clock.local(event.starts_at).date(),
                 points=-taken, source=source, actor=actor.userid,
                 reason=texts.t("theme_day.reason_fix", number=event.number, why=why))
    return -taken


def _close_task(session: Session, actor: Member, event: ThemeDay, member: Member, note: str) -> None:
    task = session.exec(select(Task).where(Task.key == f"followup:{event.number}:{member.id}")).first()
    if task is not None and task.status == "open":
        task.status, task.done_at, task.done_by, task.note = "done", clock.now(), actor.userid, note[:500]
        session.add(task)
        audit.record(session, actor.userid, "task_done", f"#{task.number}", note[:500])


def _withdraw(session: Session, entry: Attendance) -> int | None:
    """Withdraw the pending leave request of `entry`, if any (so it leaves 待审); its number."""
    number = entry.leave_number
    if entry.rsvp != "leave_pending" or number is None:
        return None
    session.exec(update(Approval).where(col(Approval.number) == number, col(Approval.status) == "pending")
                 .values(status="withdrawn", decided_at=clock.now()).execution_options(synchronize_session=False))
    return number


def manual_sign_in(session: Session, config: Any, actor: Member, event: ThemeDay, member: Member) -> Correction:
    """补签到: sign `member` in for `event` by hand (present; after the close the absence is reversed)."""
    opens, _ = window(config, event)
    if event.closed_at is None and clock.now() < opens:  # nobody is signed in days ahead
        raise ThemeDayError(texts.t("theme_day.signin_not_open", number=event.number,
                                    opens=opens.strftime("%m-%d %H:%M")))
    entry = row(session, event, member)
    if entry.signed_at is not None:
        return Correction("signin", "already", member, event)
    entry.signed_at, entry.late = clock.now(), False
    audit.record(session, actor.userid, "theme_day_signin_manual", f"#{event.number}", f"member {member.id}")
    if event.closed_at is None:
        session.add(entry)
        return Correction("signin", "done", member, event)
    was = entry.result
    entry.result = "present"
    session.add(entry)
    on, source = clock.local(event.starts_at).date(), f"theme_day:#{event.number}"
    points.award(session, config, member, PointsRule.THEME_DAY_ATTEND, on=on, source=source, actor=actor.userid,
                 reason=texts.t("theme_day.reason_attend", number=event.number, topic=event.topic))
    back = _reverse_absence(session, config, actor, event, member, "补签到") if was == "absent" else 0
    _close_task(session, actor, event, member, texts.t("theme_day.fix_task_note_signin"))
    return Correction("signin", "after", member, event, back)


def excuse(session: Session, config: Any, actor: Member, event: ThemeDay, member: Member, reason: str
           ) -> Correction:
    """准假: excuse `member`'s absence from `event` after the fact (recorded as leave; points given back)."""
    entry = row(session, event, member)
    if entry.signed_at is not None:
        return Correction("excuse", "signed", member, event)
    if entry.result == "excused" or (event.closed_at is None and entry.rsvp == "leave"):
        return Correction("excuse", "already", member, event)
    _withdraw(session, entry)
    entry.rsvp, entry.leave_number = "leave", None
    audit.record(session, actor.userid, "theme_day_excuse", f"#{event.number}", f"member {member.id}")
    if event.closed_at is None:
        session.add(entry)
        return Correction("excuse", "done", member, event)
    was, entry.result = entry.result, "excused"
    session.add(entry)
    back = _reverse_absence(session, config, actor, event, member, f"准假（{reason.strip()[:60]}）") \
        if was == "absent" else 0
    _close_task(session, actor, event, member, texts.t("theme_day.fix_task_note_excuse"))
    return Correction("excuse", "after", member, event, back)


def cancel_leave(session: Session, config: Any, member: Member) -> ThemeDay | None:
    """销假: withdraw the member's leave for the next event; that event, or None when there was no leave."""
    event = current(session, config, member.branch_id)
    entry = session.exec(select(Attendance).where(Attendance.event_id == event.id, Attendance.member_id == member.id)
                         ).first() if event is not None else None
    if event is None or entry is None or entry.rsvp not in ("leave", "leave_pending"):
        return None
    number = _withdraw(session, entry)
    entry.rsvp, entry.leave_number = None, None
    session.add(entry)
    audit.record(session, member.userid, "theme_day_unleave", f"#{event.number}",
                 f"request #{number}" if number else "")
    return event
