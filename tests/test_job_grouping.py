"""One message per person per job: theme_day_close (summary and follow-up tasks), political_birthday (talk
tasks), ticket_escalation (督办) each send one message per person listing the items; no secretary gets a task
about himself; a leave still pending when the event closes counts as excused until decided (rejected later:
unexcused). SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot import clock, outbox
from bot.models import Attendance, LedgerEntry, Member, Task
from bot.services import approvals, tasks
from bot.services.tickets import core as tickets
from bot.services.tickets import escalation as tickets_escalation
from scheduler.runner import run_job
from tests.attendance_helpers import at, queued
from tests.attendance_helpers import member as _member
from tests.attendance_helpers import past_event as _past_event
from tests.helpers import add_roster


def _close(rt):
    before = {u: len(queued(rt, u)) for u in ("sec", "cw")}
    assert run_job(rt, "theme_day_close", clock.today()) == "done"
    return {u: queued(rt, u)[before[u]:] for u in before}


def test_ten_absentees_one_message_and_pending_leave_excused_until_decided(rt):
    add_roster(rt)
    with rt.write() as s:
        sec, m2 = _member(s, "sec"), _member(s, "m2")
        m2.member_type = "regular"  # a retired member would be exempt from the absence penalty checked below
        s.add_all([Member(userid=f"x{i}", name=f"党员{i:02d}号", branch_id=sec.branch_id) for i in range(9)])
        event = _past_event(s, sec.branch_id, at(2026, 11, 24, 14, 30))
        leave = approvals.create(s, "leave", m2, "党员丙 请假", {"event_id": event.id, "event": event.number})
        s.add(Attendance(event_id=event.id, member_id=sec.id, signed_at=event.starts_at))
        s.add(Attendance(event_id=event.id, member_id=m2.id, rsvp="leave_pending", leave_number=leave.number))
        leave_number, m2_id = leave.number, m2.id
    sent = _close(rt)
    [message] = sent["sec"]  # ten absentees (m1 and x0..x8): one message, summary first
    assert "无故缺席 10 人" in message
    assert "请假 1 人" in message  # the pending leave counts as excused
    assert "跟进任务 10 项" in message
    assert len(message.encode("utf-8")) <= outbox.MAX_TEXT_BYTES
    with rt.session() as s:
        numbers = [t.number for t in s.exec(select(Task).where(Task.kind == "followup"))]
        m2_row = s.exec(select(Attendance).where(Attendance.member_id == m2_id)).one()
        assert s.exec(select(LedgerEntry).where(LedgerEntry.member_id == m2_id)).all() == []
    assert len(numbers) == 10
    assert all(f"#{n} " in message for n in numbers)
    assert m2_row.result == "excused"
    assert sent["cw"] == []
    assert run_job(rt, "theme_day_close", clock.today()) == "done"  # closed once: nothing new
    assert len(queued(rt, "sec")) == 1
    with rt.write() as s:  # rejected after the close: the absence becomes unexcused
        approvals.decide(s, rt.config, _member(s, "sec"), leave_number, False, "理由不充分")
    with rt.session() as s:
        assert s.exec(select(Attendance).where(Attendance.member_id == m2_id)).one().result == "absent"
        [entry] = s.exec(select(LedgerEntry).where(LedgerEntry.member_id == m2_id)).all()
        assert entry.points == -5
        assert s.exec(select(Task).where(Task.member_id == m2_id)).one().status == "open"
    assert "党员丙" in queued(rt, "sec")[-1]


def test_no_secretary_gets_a_task_about_himself(rt):
    add_roster(rt)
    with rt.write() as s:
        sec = _member(s, "sec")
        event = _past_event(s, sec.branch_id, at(2026, 11, 24, 14, 30))
        s.add(Attendance(event_id=event.id, member_id=_member(s, "m2").id, signed_at=event.starts_at))
    sent = _close(rt)  # sec and m1 absent
    [to_sec] = sent["sec"]
    assert "党员乙" in to_sec
    assert "书记甲" not in to_sec.split("\n", 1)[1]  # the summary, then only m1's task
    [to_cw] = sent["cw"]  # the only secretary: the committee takes the task about him
    assert "书记甲" in to_cw
    with rt.write() as s:
        own = s.exec(select(Task).where(Task.member_id == _member(s, "sec").id)).one()
        with pytest.raises(tasks.TaskError):
            tasks.complete(s, _member(s, "sec"), own.number)
        assert tasks.complete(s, _member(s, "cw"), own.number).status == "done"


def test_birthday_talk_tasks_are_one_message_and_never_about_oneself(rt):
    add_roster(rt)  # m1 joined on 2010-11-25: today is the political birthday
    with rt.write() as s:
        sec = _member(s, "sec")
        sec.joined_on = dt.date(2000, 11, 25)
        s.add(sec)
        s.add(Member(userid="m3", name="党员己", branch_id=sec.branch_id, joined_on=dt.date(2015, 11, 25)))
    assert run_job(rt, "political_birthday", clock.today()) == "done"
    [to_sec] = [t for t in queued(rt, "sec") if "谈心谈话" in t]
    assert "谈心谈话任务 2 项" in to_sec
    assert "党员乙" in to_sec
    assert "党员己" in to_sec
    assert "书记甲" not in to_sec
    [to_cw] = [t for t in queued(rt, "cw") if "谈心谈话" in t]
    assert "书记甲" in to_cw


def test_escalations_are_one_supervision_message(rt):
    add_roster(rt)
    with rt.write() as s:
        m1 = _member(s, "m1")
        for text in ("车间东门照明坏了一周", "食堂排队时间太长", "宿舍热水不稳定"):
            ticket = tickets.report(s, rt.config, m1, "problem", text)
            ticket.due_on = dt.date(2026, 11, 20)
            s.add(ticket)
    before = len(queued(rt, "cw"))
    assert run_job(rt, "ticket_escalation", clock.today()) == "done"
    [to_cw] = queued(rt, "cw")[before:]
    assert "督办通知 3 件" in to_cw
    assert "宿舍热水" in to_cw
    with rt.write() as s:  # again: nothing new to say
        assert tickets_escalation.escalate(s, rt.config, clock.today()) == 0
    assert run_job(rt, "ticket_escalation", clock.today()) == "done"
    assert len(queued(rt, "cw")) == before + 1


def test_a_long_list_shows_ten_items_and_stays_within_the_byte_limit():
    from bot.notify_group import fit

    items = [f"#{n} " + "走访或谈心：" * 12 for n in range(25)]
    text = fit(["跟进任务 25 项："], items, ["完成后回复「完成 编号」销号。"])
    assert len(text.encode("utf-8")) <= outbox.MAX_TEXT_BYTES
    shown = [line for line in text.split("\n") if line.startswith("#")]
    assert 0 < len(shown) <= 10
    assert f"另有 {25 - len(shown)} 项" in text
    assert fit(["一条"], items[:3], []).count("\n") == 3  # short lists are shown whole
