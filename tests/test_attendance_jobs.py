"""Theme day jobs: both reminders once each (even when the job runs twice, quiet hours respected), absence
and late rules across months (each alert once, with a follow-up task), the limit-day flag; SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot import clock
from bot.models import Attendance, AttendanceAlert, Branch, Delivery, LedgerEntry, Member, Task
from bot.services.theme_day import core as theme_day
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.attendance_helpers import member as _member
from tests.attendance_helpers import past_event as _past_event
from tests.helpers import add_roster


def _publish(rt, when="2026-11-26 14:00"):
    with rt.write() as s:
        starts = clock.at(dt.date.fromisoformat(when[:10]), dt.time.fromisoformat(when[11:]))
        event, _ = theme_day.publish(s, rt.config, _member(s, "sec"), _member(s, "sec").branch_id, starts,
                                     "会议室", "学习党章")
        return event.number


def test_reminders_once_per_event_kind_and_member(rt):
    add_roster(rt)
    move(at(2026, 11, 25, 8, 30))
    number = _publish(rt)
    with rt.write() as s:
        theme_day.request_leave(s, rt.config, _member(s, "m2"), "出差")
    run_job(rt, "theme_day_reminders", clock.today())
    assert len(queued(rt, "m1")) == 1  # only the notice: the day-before reminder goes from 09:00
    move(at(2026, 11, 25, 14, 10))
    for _ in range(2):
        assert run_job(rt, "theme_day_reminders", clock.today()) == "done"
    move(at(2026, 11, 26, 12, 10))
    for _ in range(2):
        run_job(rt, "theme_day_reminders", clock.today())
    notice, day_before, two_hours = queued(rt, "m1")
    assert f"#{number}" in notice
    assert "明日主题党日" in day_before
    assert "将于 2026-11-26 14:00" in two_hours
    assert len(queued(rt, "m2")) == 1  # on leave: no reminders
    sec = queued(rt, "sec")
    assert len(sec) == 4  # the three theme-day messages and m2's leave request (the event is within 36 h)
    assert sum("请假申请" in t for t in sec) == 1


def test_reminders_wait_for_the_end_of_quiet_hours(rt):
    add_roster(rt)
    _publish(rt, "2026-11-27 08:00")
    move(at(2026, 11, 27, 6, 0))
    run_job(rt, "theme_day_reminders", clock.today())
    with rt.session() as s:
        rows = list(s.exec(select(Delivery).where(Delivery.recipient == "m1").order_by(Delivery.id)))
    assert clock.local(rows[-1].not_before) == at(2026, 11, 27, 7, 0)


def test_absence_and_late_rules_across_months(rt):
    people = add_roster(rt)
    del people
    with rt.write() as s:
        sec, m1, m2 = _member(s, "sec"), _member(s, "m1"), _member(s, "m2")
        for month in range(1, 8):
            event = _past_event(s, sec.branch_id, at(2026, month, 5, 14, 30))
            late = month in (2, 4, 6)
            s.add(Attendance(event_id=event.id, member_id=sec.id, signed_at=event.starts_at, late=late))
            if month == 3:
                s.add(Attendance(event_id=event.id, member_id=m2.id, rsvp="leave"))
            if month == 7:
                s.add(Attendance(event_id=event.id, member_id=m2.id, signed_at=event.starts_at))
        m1_id = m1.id
    move(at(2026, 7, 10, 9, 0))
    assert run_job(rt, "theme_day_close", dt.date(2026, 7, 10)) == "done"
    assert run_job(rt, "attendance_rules", dt.date(2026, 7, 10)) == "done"
    with rt.session() as s:
        alerts = sorted((a.member_id, a.rule, a.count) for a in s.exec(select(AttendanceAlert)))
        sec_id, m2_id = _member(s, "sec").id, _member(s, "m2").id
        absent = s.exec(select(LedgerEntry).where(LedgerEntry.member_id == m1_id,
                                                  LedgerEntry.rule == "theme_day_absent")).all()
        followups = s.exec(select(Task).where(Task.kind == "followup")).all()
    # m1: 7 absences in a row; m2: absent Jan-Feb, excused Mar, absent Apr-Jun (3 in a row), present Jul
    assert alerts == sorted([(m1_id, "consecutive", 7), (m1_id, "cumulative", 7), (sec_id, "late", 3),
                             (m2_id, "consecutive", 3)])
    assert len(absent) == 7
    assert all(e.points == -5 for e in absent)
    assert len(followups) == 7 + 5 + 4  # one per unexcused absence, one per alert
    [to_cw] = [t for t in queued(rt, "cw") if "出勤预警" in t]  # one message listing the run's alerts
    assert "出勤预警 4 条" in to_cw
    assert "党员乙：连续缺席（7 次）" in to_cw
    assert "书记甲：多次迟到（3 次）" in to_cw
    [to_sec] = [t for t in queued(rt, "sec") if "出勤预警" in t]
    assert "出勤预警 3 条" in to_sec
    assert "书记甲" not in to_sec  # never an alert or task about himself
    with rt.write() as s:  # again the next day: every alert only once
        from bot.services.theme_day import jobs as theme_day_jobs

        assert theme_day_jobs.apply_rules(s, rt.config, dt.date(2026, 7, 11)) == 0


def test_limit_day_flags_branches_without_a_theme_day(rt):
    add_roster(rt)
    with rt.write() as s:
        b2 = Branch(code="b2", name="第二党支部", theme_day_limit_day=20)
        b3 = Branch(code="b3", name="第三党支部")
        s.add_all([b2, b3])
        s.flush()
        _past_event(s, b3.id, at(2026, 12, 5, 14, 30))
        cancelled = _past_event(s, _member(s, "sec").branch_id, at(2026, 12, 6, 14, 30))
        cancelled.status = "cancelled"
        s.add(cancelled)
    move(at(2026, 12, 15, 9, 0))
    assert run_job(rt, "theme_day_deadline", dt.date(2026, 12, 15)) == "done"
    assert run_job(rt, "theme_day_deadline", dt.date(2026, 12, 15)) == "already done"
    [text] = queued(rt, "cw")
    assert "第一党支部" in text
    assert "第二党支部" not in text
    assert "第三党支部" not in text
    move(at(2026, 12, 20, 9, 0))
    run_job(rt, "theme_day_deadline", dt.date(2026, 12, 20))
    assert "第二党支部" in queued(rt, "cw")[-1]


def test_yearly_minimum_out_of_reach(backend):
    from tests.conftest import make_runtime

    rt = make_runtime(backend, theme_day={"min_yearly": 4})
    add_roster(rt)
    with rt.write() as s:
        sec, m1 = _member(s, "sec"), _member(s, "m1")
        for month in range(1, 10):
            event = _past_event(s, sec.branch_id, at(2026, month, 5, 14, 30))
            s.add(Attendance(event_id=event.id, member_id=sec.id, signed_at=event.starts_at))
            s.add(Attendance(event_id=event.id, member_id=m1.id, rsvp="leave"))
    move(at(2026, 9, 10, 9, 0))
    run_job(rt, "theme_day_close", dt.date(2026, 9, 10))
    run_job(rt, "attendance_rules", dt.date(2026, 9, 10))
    with rt.session() as s:
        rules = sorted((_m.userid, a.rule) for a in s.exec(select(AttendanceAlert))
                       for _m in [s.get(Member, a.member_id)])
    assert ("m1", "minimum") in rules  # 0 attended, 3 months left, minimum 4
    assert ("sec", "minimum") not in rules
    assert any("党员乙：全年出勤不足（0 次）" in t for t in queued(rt, "cw"))
    rt.close()
