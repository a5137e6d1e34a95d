"""Secretaries kept informed: a new request reaches its deciders as a notice, a leave for an event within 36 h
at once (not held by the daily budget, still after quiet hours), and `secretary_digest` (17:30 workdays) counts
what waits per kind with the command listing it, for committee members escalations and committee requests;
nothing when there is nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot import clock, outbox
from bot.models import Delivery, OutboundMessage, Ticket
from bot.services.points import admin as points_admin
from bot.services.theme_day import core as theme_day
from bot.services.tickets import core as tickets
from bot.services.tickets import escalation as tickets_escalation
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.attendance_helpers import member as _member
from tests.callbacks import say_wecom
from tests.helpers import add_roster


def _publish(rt, when):
    with rt.write() as s:
        sec = _member(s, "sec")
        starts = clock.at(dt.date.fromisoformat(when[:10]), dt.time.fromisoformat(when[11:]))
        event, _ = theme_day.publish(s, rt.config, sec, sec.branch_id, starts, "会议室", "学习党章")
        return event.number


def _deliveries(rt, recipient, needle):
    with rt.session() as s:
        stmt = (select(Delivery, OutboundMessage).join(OutboundMessage, OutboundMessage.id == Delivery.message_id)
                .where(Delivery.recipient == recipient).order_by(Delivery.id))
        return [(d, m) for d, m in s.exec(stmt) if needle in m.payload]


def test_digest_counts_a_leave_request_made_that_day(rt):
    add_roster(rt)
    move(at(2026, 11, 24, 17, 30))
    assert run_job(rt, "secretary_digest", dt.date(2026, 11, 24)) == "skipped"  # nothing waits: nothing sent
    assert queued(rt, "sec") == []
    move(at(2026, 11, 25, 9, 0))
    _publish(rt, "2026-12-05 14:30")
    with rt.write() as s:
        number = theme_day.request_leave(s, rt.config, _member(s, "m2"), "出差").number
    [notice] = [t for t in queued(rt, "sec") if "请假申请" in t]  # the notice as the request is made
    assert f"#{number}" in notice
    assert f"通过 {number}" in notice
    [(_, message)] = _deliveries(rt, "sec", "请假申请")
    assert not message.urgent  # an ordinary notice: the event is more than 36 h away
    move(at(2026, 11, 25, 17, 30))
    assert run_job(rt, "secretary_digest", dt.date(2026, 11, 25)) == "done"
    [digest] = [t for t in queued(rt, "sec") if "今日待办" in t]
    assert "待审批申请 1 件（请假 1）" in digest
    assert "「待审」" in digest
    assert not any("今日待办" in t for t in queued(rt, "cw"))  # the branch has a secretary
    assert not any("今日待办" in t for t in queued(rt, "m1"))
    assert run_job(rt, "secretary_digest", dt.date(2026, 11, 25)) == "already done"
    move(at(2026, 11, 28, 17, 30))
    assert run_job(rt, "secretary_digest", dt.date(2026, 11, 28)) == "skipped"  # a Saturday
    assert len([t for t in queued(rt, "sec") if "今日待办" in t]) == 1


def test_a_leave_for_tomorrows_event_reaches_the_secretary_at_once(rt):
    add_roster(rt)
    _publish(rt, "2026-11-26 14:00")  # 29 h away
    with rt.write() as s:  # the secretary's daily budget (3) is used up: an ordinary notice would wait a day
        for i in range(3):
            outbox.enqueue(s, channel="wecom", kind="text", payload={"content": f"通知 {i}"}, recipients=["sec"],
                           key=f"filler:{i}", topic="task", config=rt.config)
        theme_day.request_leave(s, rt.config, _member(s, "m2"), "出差")
    [(row, message)] = _deliveries(rt, "sec", "请假申请")
    assert clock.local(row.not_before) == at(2026, 11, 25, 9, 0)  # at once, budget or not
    assert (row.status, message.delivery_class, message.topic) == ("queued", "timed", "leave_request_urgent")
    assert clock.local(message.expires_at) == at(2026, 11, 26, 14, 0)
    assert "尽快审批" in queued(rt, "sec")[-1]
    move(at(2026, 11, 25, 23, 0))  # during quiet hours it waits for their end, not for the budget
    with rt.write() as s:
        theme_day.request_leave(s, rt.config, _member(s, "m1"), "夜班")
    [_, (late_row, _)] = _deliveries(rt, "sec", "请假申请")
    assert clock.local(late_row.not_before) == at(2026, 11, 26, 7, 0)


def test_committee_digest_counts_escalations_and_committee_requests(app_rt):
    client, rt = app_rt
    with rt.write() as s:
        sec, m1 = _member(s, "sec"), _member(s, "m1")
        points_admin.adjust(s, rt.config, sec, m1, 20, "抢险救灾表现突出")  # over manual_limit: committee decides
        ticket = tickets.report(s, rt.config, m1, "problem", "车间东门照明坏了一周")
        ticket.due_on = dt.date(2026, 11, 20)
        s.add(ticket)
        s.flush()
        assert tickets_escalation.escalate(s, rt.config, clock.today()) == 1
        number = ticket.number
    assert f"#{number}" in say_wecom(client, "cw", "进度")  # 进度 without a number: every escalated ticket
    move(at(2026, 11, 25, 17, 30))
    assert run_job(rt, "secretary_digest", dt.date(2026, 11, 25)) == "done"
    [to_cw] = [t for t in queued(rt, "cw") if "今日待办" in t]
    assert "待审批申请 1 件（积分调整 1）" in to_cw
    assert "已升级督办的问题 1 件" in to_cw
    assert "「进度」" in to_cw
    [to_sec] = [t for t in queued(rt, "sec") if "今日待办" in t]
    assert "今日新增 1 件，逾期未办结 0 件" in to_sec  # escalation gave it a new deadline
    assert "积分调整" not in to_sec  # a committee request, and one he made
    with rt.session() as s:
        assert s.exec(select(Ticket).where(Ticket.number == number)).one().level == 1


def test_each_new_request_reaches_the_deciders_and_is_counted_per_kind(rt):
    from bot.services import commitments, reviews

    add_roster(rt)
    with rt.write() as s:
        m1, m2 = _member(s, "m1"), _member(s, "m2")
        commitments.make(s, rt.config, m1, "全年帮扶两名困难群众并按月走访记录")
        commitments.make(s, rt.config, m2, "全年带头学习并每季度分享一次心得体会")
        reviews.submit(s, rt.config, m1, "本半年度按时参加组织生活，认真学习党的理论，完成岗位任务，帮助同事解决困难。")
    to_sec = queued(rt, "sec")
    assert sum("新的承诺申请" in t for t in to_sec) == 2
    assert sum("新的自评申请" in t for t in to_sec) == 1
    assert not any("申请" in t for t in queued(rt, "m1"))  # nobody hears of his own request
    move(at(2026, 11, 25, 17, 30))
    assert run_job(rt, "secretary_digest", dt.date(2026, 11, 25)) == "done"
    [digest] = [t for t in queued(rt, "sec") if "今日待办" in t]
    assert "待审批申请 3 件（承诺 2、自评 1）" in digest
