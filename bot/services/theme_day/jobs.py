"""Scheduled side of theme days: reminders, closing (attendance results and points), the limit-day flag
and the attendance rules (alerts to the secretary and the committee, each once, with a follow-up task).
Each run sends one message per person (bot.notify_group), listing its tasks and alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import clock, notify, outbox, texts
from bot.enums import PointsRule
from bot.models import Attendance, AttendanceAlert, Branch, Member, ThemeDay
from bot.notify_group import Batch
from bot.services import tasks
from bot.services.points import core as points
from bot.services.theme_day.agenda import branch_rule, detail_lines, online_text
from bot.services.theme_day.core import OPEN, branch_members, push, when

DAY_BEFORE_FROM = dt.time(9, 0)  # the day-before reminder goes from 09:00 on the calendar day before ...
TWO_HOURS = dt.timedelta(hours=2)  # ... and the other from start - 2 h


def due_reminders(config: Any, start: dt.datetime, now: dt.datetime) -> list[str]:
    """The reminders due now for an event starting at `start` (CONTRACT "Delivery classes"): `day_before`
    from 09:00 on the calendar day before until quiet hours begin (none for an event published later: the
    window has passed), `two_hours` from start - 2 h until the start."""
    due = []
    local, begins = clock.local(now), clock.local(start)
    until = outbox.expires_at("theme_day_reminder_day_before", start, config)
    if local.date() == begins.date() - dt.timedelta(days=1) and local.time() >= DAY_BEFORE_FROM \
            and until is not None and now < until:
        due.append("day_before")
    if start - TWO_HOURS <= now < start:
        due.append("two_hours")
    return due


def remind(session: Session, config: Any, now: dt.datetime) -> int:
    """Day-before and 2-hours-before reminders; once per (event, kind, member) by outbox keys that include
    the start time (a postponed event is reminded again for its new time). Returns recipients queued."""
    stmt = (select(ThemeDay).where(col(ThemeDay.status).in_(OPEN), col(ThemeDay.closed_at).is_(None),
                                   ThemeDay.starts_at > now, ThemeDay.starts_at <= now + dt.timedelta(hours=48))
            .order_by(col(ThemeDay.starts_at)))
    queued = 0
    for event in session.exec(stmt).all():
        start = clock.local(event.starts_at)
        away = {a.member_id for a in session.exec(select(Attendance).where(
            Attendance.event_id == event.id, col(Attendance.rsvp).in_(("leave", "leave_pending"))))}
        people = [m for m in branch_members(session, event.branch_id) if m.id not in away]
        for kind in due_reminders(config, event.starts_at, now):
            online = online_text(event)
            template = f"theme_day.remind_{kind}"
            if kind == "day_before":  # 议程 / 嘉宾 under the place line
                online += "".join(f"\n{line}" for line in detail_lines(event))
            elif event.online:  # the two-hour reminder: the code is read out in the meeting
                template += "_online"
            text = texts.t(template, number=event.number, topic=event.topic, when=when(event), place=event.place,
                           online=online)
            key = f"theme_day:{event.number}:{kind}:{start:%Y%m%d%H%M}"
            topic = "theme_day_reminder_day_before" if kind == "day_before" else "theme_day_reminder_2h"
            queued += push(session, config, event, people, text, key, topic=topic, anchor=event.starts_at,
                           robot=kind == "day_before")
    return queued


def close(session: Session, config: Any, now: dt.datetime) -> int:
    """Events whose sign-in window ended: results, points, follow-up tasks and a summary. Returns events closed."""
    ended = now - dt.timedelta(hours=config.theme_day.duration_hours)
    stmt = select(ThemeDay.id).where(col(ThemeDay.status).in_(OPEN), col(ThemeDay.closed_at).is_(None),
                                     ThemeDay.starts_at <= ended)
    closed = 0
    for event_id in list(session.exec(stmt)):
        claimed = session.exec(update(ThemeDay).where(col(ThemeDay.id) == event_id, col(ThemeDay.closed_at).is_(None))
                               .values(closed_at=now, status="held")).rowcount
        if claimed != 1:
            continue
        event = session.get(ThemeDay, event_id)
        assert event is not None  # the row just updated
        session.refresh(event)
        _record(session, config, event)
        closed += 1
    return closed


def _record(session: Session, config: Any, event: ThemeDay) -> None:
    """Results and points; a leave still pending counts as excused until decided (see `leave_rejected`). The
    secretaries get one message: the summary and the follow-up tasks (a task about a secretary goes to the
    others, see tasks.takers); the group robot only the summary."""
    rows = {a.member_id: a for a in session.exec(select(Attendance).where(Attendance.event_id == event.id))}
    on, source = clock.local(event.starts_at).date(), f"theme_day:#{event.number}"
    counts = {"present": 0, "late": 0, "excused": 0, "absent": 0}
    batch = Batch(key=f"theme_day:{event.number}:close", header="theme_day.followup_header", footer="task.usage")
    assert event.id is not None  # a row from the session
    for member in branch_members(session, event.branch_id):
        assert member.id is not None
        entry = rows.get(member.id) or Attendance(event_id=event.id, member_id=member.id)
        if entry.signed_at is not None:
            entry.result = "late" if entry.late else "present"
            points.award(session, config, member, PointsRule.THEME_DAY_ATTEND, on=on, source=source,
                         reason=texts.t("theme_day.reason_attend", number=event.number, topic=event.topic))
            if entry.late:
                points.award(session, config, member, PointsRule.THEME_DAY_LATE, on=on, source=source,
                             reason=texts.t("theme_day.reason_late", number=event.number))
        elif entry.rsvp in ("leave", "leave_pending"):
            entry.result = "excused"
        else:
            _absent(session, config, event, member, entry, batch)
        assert entry.result is not None  # set by each branch above
        counts[entry.result] += 1
        session.add(entry)
    text = texts.t("theme_day.summary", number=event.number, topic=event.topic, when=when(event),
                   present=counts["present"] + counts["late"], late=counts["late"], excused=counts["excused"],
                   absent=counts["absent"])
    batch.lead(tasks.secretaries(session, event.branch_id), text)
    batch.send(session, config)
    push(session, config, event, [], text, f"theme_day:{event.number}:summary", topic="theme_day_summary",
         robot=True)


def _absent(session: Session, config: Any, event: ThemeDay, member: Member, entry: Attendance,
            batch: Batch | None) -> None:
    entry.result = "absent"
    points.award(session, config, member, PointsRule.THEME_DAY_ABSENT, on=clock.local(event.starts_at).date(),
                 source=f"theme_day:#{event.number}", reason=texts.t("theme_day.reason_absent", number=event.number))
    tasks.create(session, config, key=f"followup:{event.number}:{member.id}", kind="followup",
                 branch_id=event.branch_id, member=member, batch=batch,
                 summary=texts.t("theme_day.followup", name=member.name, number=event.number))


def leave_rejected(session: Session, config: Any, entry: Attendance) -> None:
    """A leave rejected after its event closed: the excused absence it counted as becomes unexcused (absent
    points and a follow-up task, told on its own). Nothing changes while the event is still open."""
    event = session.get(ThemeDay, entry.event_id)
    member = session.get(Member, entry.member_id)
    if event is None or member is None or event.closed_at is None:
        return
    if entry.signed_at is not None or entry.result != "excused":
        return
    _absent(session, config, event, member, entry, None)
    session.add(entry)


def deadline(session: Session, config: Any, day: dt.date) -> list[Branch]:
    """Branches whose limit day is `day` and that held no theme day this month: the committee is told."""
    first = clock.at(day.replace(day=1), dt.time(0))
    end = clock.at(day + dt.timedelta(days=1), dt.time(0))
    flagged = []
    for branch in session.exec(select(Branch).where(Branch.level == "branch").order_by(Branch.code)):
        if branch_rule(config, branch)[2] != day.day:  # the branch's own limit day, else [theme_day]
            continue
        held = session.exec(select(ThemeDay.id).where(ThemeDay.branch_id == branch.id,
                                                      ThemeDay.status != "cancelled", ThemeDay.starts_at >= first,
                                                      ThemeDay.starts_at < end)).first()
        if held is None:
            flagged.append(branch)
    if flagged:
        text = texts.t("theme_day.deadline", date=day.isoformat(), names="、".join(b.name for b in flagged[:80]))
        notify.members(session, config, tasks.committee(session), text, key=f"theme_day_deadline:{day}",
                       topic="branch_alert")
    return flagged


def _results(session: Session, member: Member, year: int) -> list[str]:
    lo, hi = clock.at(dt.date(year, 1, 1), dt.time(0)), clock.at(dt.date(year + 1, 1, 1), dt.time(0))
    stmt = (select(Attendance.result).join(ThemeDay, col(ThemeDay.id) == Attendance.event_id)
            .where(Attendance.member_id == member.id, col(Attendance.result).is_not(None),
                   ThemeDay.starts_at >= lo, ThemeDay.starts_at < hi).order_by(col(ThemeDay.starts_at)))
    return [r for r in session.exec(stmt) if r]


def _longest_absence(results: list[str]) -> int:
    best = run = 0
    for result in results:
        run = run + 1 if result == "absent" else 0
        best = max(best, run)
    return best


def apply_rules(session: Session, config: Any, day: dt.date) -> int:
    """N consecutive or M cumulative unexcused absences in the year, late more than K times, or the yearly
    minimum out of reach (one theme day a month left) → one alert each (secretary and committee, never the
    member it is about) and a follow-up task; one message per person per run. Returns new alerts."""
    consecutive = config.theme_day.absent_consecutive
    cumulative = config.theme_day.absent_cumulative
    late_max = config.theme_day.late_max
    minimum = config.theme_day.min_yearly
    year, new = day.year, 0
    batch = Batch(key=f"attendance_rules:{day}", header="theme_day.alert_header", footer="task.usage")
    flagged = ("absent", "late") if minimum <= 0 else ("absent", "late", "excused", "present")
    suspects = select(Attendance.member_id).where(col(Attendance.result).in_(flagged)).distinct()
    for member_id in list(session.exec(suspects)):
        member = session.get(Member, member_id)
        if member is None or not member.active:
            continue
        results = _results(session, member, year)
        tripped = []
        if consecutive > 0 and _longest_absence(results) >= consecutive:
            tripped.append(("consecutive", _longest_absence(results)))
        if cumulative > 0 and results.count("absent") >= cumulative:
            tripped.append(("cumulative", results.count("absent")))
        if results.count("late") > late_max:
            tripped.append(("late", results.count("late")))
        attended = results.count("present") + results.count("late")
        if minimum > 0 and attended + (12 - day.month) < minimum:  # one theme day a month left at most
            tripped.append(("minimum", attended))
        for rule, count in tripped:
            new += _alert(session, config, member, year, rule, count, batch)
    batch.send(session, config)
    return new


def _alert(session: Session, config: Any, member: Member, year: int, rule: str, count: int, batch: Batch) -> int:
    exists = session.exec(select(AttendanceAlert.id).where(AttendanceAlert.member_id == member.id,
                                                           AttendanceAlert.year == year,
                                                           AttendanceAlert.rule == rule)).first()
    if exists is not None:
        return 0
    branch = session.get(Branch, member.branch_id) if member.branch_id else None
    text = texts.t(f"theme_day.alert_{rule}", branch=branch.name if branch else "", name=member.name, year=year,
                   count=count)
    people = {m.id: m for m in [*tasks.takers(session, member.branch_id, member), *tasks.committee(session)]
              if m.id != member.id}
    task, _ = tasks.create(session, config, key=f"alert:{member.id}:{year}:{rule}", kind="followup",
                           branch_id=member.branch_id, member=member, tell=[],
                           summary=texts.t("theme_day.alert_task", name=member.name,
                                           rule=texts.t(f"theme_day.rule_{rule}")))
    assert member.id is not None  # a member row from the session
    session.add(AttendanceAlert(member_id=member.id, year=year, rule=rule, count=count, task_number=task.number,
                                at=clock.now()))
    full = text + "\n" + texts.t("task.new", number=task.number, summary=task.summary)
    line = texts.t("theme_day.alert_line", branch=branch.name if branch else "", name=member.name,
                   rule=texts.t(f"theme_day.rule_{rule}"), count=count, number=task.number)
    batch.add(list(people.values()), f"alert:{member.id}:{year}:{rule}", line, single=full)
    return 1
