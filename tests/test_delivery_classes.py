"""Delivery classes (CONTRACT.md "Delivery classes"): the kind → class table, replies and the card never held by
the budget, notices over the budget folded into one digest at digest_at, 通知, expiry instead of lateness,
免打扰 as the contract says, 紧急通知 and 急难. Real services, the fake WeCom API, the clock pinned; SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from bot import clock, notify, outbox, wording
from bot.models import Delivery, OutboundMessage
from bot.outbox.classes import TABLE, DeliveryClass
from bot.services import approvals, notices
from bot.services.study import checkin as study_checkin
from bot.services.study import makeup as study_makeup
from bot.services.theme_day import core as theme_day
from bot.services.theme_day import jobs as theme_day_jobs
from bot.services.tickets import core as tickets
from bot.services.tickets import handling as ticket_handling
from scheduler.runner import run_job
from tests.attendance_helpers import at, move
from tests.attendance_helpers import member as _member
from tests.helpers import add_roster
from tests.study_helpers import add_items, item

pytest_plugins = ("tests.fakewecom",)

R, T, N, U = DeliveryClass.REPLY, DeliveryClass.TIMED, DeliveryClass.NOTICE, DeliveryClass.URGENT
EXPECTED = {  # every kind of message → (class, expiry, held by 免打扰, counted in the budget)
    "reply": (R, "none", False, False), "late_reply": (R, "none", False, False),
    "decision": (R, "none", False, False), "ticket_reply": (R, "none", False, False),
    "study_card": (T, "end_of_day", True, False), "study_reminder": (T, "end_of_day", True, False),
    "birthday_greeting": (T, "end_of_day", True, False),
    "theme_day_publish": (T, "at_start", False, False), "theme_day_postpone": (T, "at_start", False, False),
    "theme_day_cancel": (T, "at_start", False, False),
    "theme_day_reminder_day_before": (T, "day_before", False, False),
    "theme_day_reminder_2h": (T, "at_start", False, False), "duty_reminder": (T, "start_of_day", False, False),
    "leave_request_urgent": (T, "at_start", False, False),
    "commitment_public": (N, "none", True, True), "vote_invitation": (N, "none", True, True),
    "review_notice": (N, "none", True, True), "task": (N, "none", True, True),
    "ticket_notice": (N, "none", True, True), "new_request": (N, "none", True, True),
    "points_notice": (N, "none", True, True), "birthday_list": (N, "none", True, True),
    "study_gap": (N, "none", True, True), "branch_alert": (N, "none", True, True),
    "theme_day_summary": (N, "none", True, True),
    "secretary_digest": (N, "none", True, False), "notice_digest": (N, "none", True, False),
    "urgent_notice": (U, "none", False, False), "ticket_urgent": (U, "none", False, False),
    "config_alert": (U, "none", False, False),
}
CALL_SITE = re.compile(r'topic(?:=|: str = )"([a-z0-9_]+)"')


def test_the_table_is_the_whole_mapping_and_every_call_site_kind_has_a_class():
    assert {k: (r.cls, r.expiry.value, r.held_by_dnd, r.budgeted) for k, r in TABLE.items()} == EXPECTED
    import pathlib
    used = set()
    for folder in ("bot", "handlers", "scheduler"):
        for path in pathlib.Path(folder).rglob("*.py"):
            used |= set(CALL_SITE.findall(path.read_text(encoding="utf-8")))
    assert used - set(TABLE) == set()
    assert {"study_card", "decision", "task", "urgent_notice", "ticket_urgent"} <= used


def test_a_kind_without_a_class_is_refused(rt):
    with rt.session() as s, pytest.raises(ValueError, match="no delivery class"):
        outbox.enqueue(s, channel="wecom", kind="text", payload={"content": "x"}, recipients=["a"], topic="gossip",
                       config=rt.config)


def _rows(rt, recipient):
    with rt.session() as s:
        stmt = (select(Delivery, OutboundMessage).join(OutboundMessage, OutboundMessage.id == Delivery.message_id)
                .where(Delivery.recipient == recipient).order_by(Delivery.id))
        return [(d, m) for d, m in s.exec(stmt)]


def _notices(rt, who, count, start=0):
    with rt.write() as s:
        people = [_member(s, w) for w in who]
        for i in range(start, start + count):
            notify.members(s, rt.config, people, f"任务提醒 {i}：请走访困难党员并登记情况", f"flood:{i}", topic="task")


def test_four_decisions_go_the_same_day_and_the_next_card_at_0750(make_rt, fake_wecom):
    rt = make_rt()
    add_roster(rt)
    add_items(rt, *(item(f"s{i}") for i in range(8)))
    for day in (20, 23, 24, 25):  # four workdays whose card m1 never checked in
        move(at(2026, 11, day, 7, 50))
        assert run_job(rt, "morning_study", dt.date(2026, 11, day)) == "done"
    move(at(2026, 11, 26, 8, 30))
    with rt.write() as s:
        m1 = _member(s, "m1")
        numbers = [study_makeup.request_makeup(s, rt.config, m1, dt.date(2026, 11, day), "出差").number
                   for day in (20, 23, 24, 25)]
    _notices(rt, ["m1"], 3)  # and the day's budget of notices is used
    move(at(2026, 11, 26, 9, 0))
    with rt.write() as s:
        sec = _member(s, "sec")
        for number in numbers:
            approvals.decide(s, rt.config, sec, number, True)
    outbox.Worker(rt, "w").drain()
    decisions = [(d, m) for d, m in _rows(rt, "m1") if m.topic == "decision"]
    assert len(decisions) == 4
    assert all(d.status == "sent" for d, _ in decisions)
    assert {clock.local(d.sent_at).date() for d, _ in decisions} == {dt.date(2026, 11, 26)}
    move(at(2026, 11, 27, 7, 50))
    assert run_job(rt, "morning_study", dt.date(2026, 11, 27)) == "done"
    outbox.Worker(rt, "w").drain()
    [card] = [d for d, m in _rows(rt, "m1") if m.topic == "study_card" and "2026-11-27" in m.payload]
    assert card.status == "sent"
    assert clock.local(card.sent_at) == at(2026, 11, 27, 7, 50)


def test_a_flood_of_notices_becomes_one_digest_listed_by_tongzhi(make_rt, fake_wecom):
    rt = make_rt()
    add_roster(rt)
    move(at(2026, 11, 25, 9, 0))
    _notices(rt, ["m1"], 15)
    statuses = [d.status for d, _ in _rows(rt, "m1")]
    assert statuses == ["queued"] * 3 + ["folded"] * 12
    outbox.Worker(rt, "w").drain()
    assert len(fake_wecom.delivered["m1"]) == 3
    move(at(2026, 11, 25, 23, 0))  # folded at 09:00, after digest_at: the digest goes the next morning
    outbox.Worker(rt, "w").drain()
    assert len(fake_wecom.delivered["m1"]) == 3
    move(at(2026, 11, 26, 8, 0))
    worker = outbox.Worker(rt, "w")
    worker.drain()
    worker.drain()
    [digest] = fake_wecom.delivered["m1"][3:]
    lines = digest["content"].splitlines()
    assert lines[0] == "通知汇总：另有 12 条通知未单独推送"
    assert len([line for line in lines if re.match(r"\d+\. 任务提醒", line)]) == 10
    assert lines[-1] == "另有 2 条，回复「通知」查看"
    assert all(len(line) <= 34 for line in lines[1:-1])  # one shortened line each
    move(at(2026, 11, 26, 12, 0))
    _notices(rt, ["m1"], 4, start=100)  # a new day: three go, one is folded for tomorrow's digest
    outbox.Worker(rt, "w").drain()
    assert len(fake_wecom.delivered["m1"]) == 7  # the digest never counted against the budget
    with rt.session() as s:
        listing = wording.folded(notices.folded(s, rt.config, _member(s, "m1")))
    assert listing.splitlines()[0] == "近两日汇总的通知 13 条："
    assert "任务提醒 14：请走访困难党员并登记情况" in listing
    assert "任务提醒 103" in listing


def test_tongzhi_pages_a_long_listing(app_rt):
    from tests.callbacks import say_wecom
    client, rt = app_rt
    move(at(2026, 11, 25, 9, 0))
    with rt.write() as s:
        m1 = _member(s, "m1")
        for i in range(40):
            notify.members(s, rt.config, [m1], f"评议公示 {i}：" + "请查看本支部党员评议结果并在七日内提出意见。" * 3,
                           f"long:{i}", topic="review_notice")
    first = say_wecom(client, "m1", "通知")
    assert first.startswith("近两日汇总的通知 37 条：")
    assert "回复「下一页」继续" in first
    assert "评议公示" in say_wecom(client, "m1", "下一页")


def test_the_day_before_reminder_arrives_the_day_before_even_over_budget(make_rt, fake_wecom):
    rt = make_rt()
    add_roster(rt)
    move(at(2026, 11, 24, 10, 0))
    with rt.write() as s:
        sec = _member(s, "sec")
        _event, _ = theme_day.publish(s, rt.config, sec, sec.branch_id, at(2026, 11, 26, 14, 30), "会议室", "学习党章")
    _notices(rt, ["m1"], 4)
    move(at(2026, 11, 25, 9, 0))
    _notices(rt, ["m1"], 3, start=10)  # the day's budget is used before the reminder
    assert run_job(rt, "theme_day_reminders", dt.date(2026, 11, 25)) == "done"
    outbox.Worker(rt, "w").drain()
    [(row, message)] = [(d, m) for d, m in _rows(rt, "m1") if m.topic == "theme_day_reminder_day_before"]
    assert row.status == "sent"
    assert clock.local(row.sent_at) == at(2026, 11, 25, 9, 0)
    assert clock.local(message.expires_at) == at(2026, 11, 25, 21, 30)


def test_a_timed_message_past_its_moment_expires_and_is_never_sent(make_rt, fake_wecom):
    rt = make_rt()
    add_roster(rt)
    move(at(2026, 11, 25, 21, 0))
    with rt.write() as s:
        notify.members(s, rt.config, [_member(s, "m1")], "明天值班", "duty:x", topic="duty_reminder",
                       anchor=dt.date(2026, 11, 26))
    move(at(2026, 11, 25, 21, 10))  # quiet hours begin at 21:30: held until 07:00, after the duty day began
    with rt.write() as s:
        notify.members(s, rt.config, [_member(s, "m2")], "明天值班", "duty:y", topic="duty_reminder",
                       anchor=dt.date(2026, 11, 26))
    [(row, _)] = _rows(rt, "m2")
    assert row.status == "queued"
    move(at(2026, 11, 26, 7, 0))
    stats = outbox.Worker(rt, "w").drain()
    assert stats["expired"] == 2
    assert stats["sent"] == 0
    for who in ("m1", "m2"):
        [(row, _)] = _rows(rt, who)
        assert row.status == "expired"
        assert row.last_error == "expired: duty_reminder (start_of_day) at 2026-11-26 00:00"
    assert fake_wecom.sends() == []
    move(at(2026, 11, 26, 22, 0))  # published in quiet hours the day before: expired at once, none sent later
    with rt.write() as s:
        sec = _member(s, "sec")
        theme_day.publish(s, rt.config, sec, sec.branch_id, at(2026, 11, 27, 8, 0), "会议室", "学习党章")
    assert theme_day_jobs.due_reminders(rt.config, at(2026, 11, 27, 8, 0), clock.now()) == []


def test_dnd_holds_notices_and_the_card_but_not_the_branchs_event(make_rt, fake_wecom):
    rt = make_rt()
    add_roster(rt)
    add_items(rt, item("s1"))
    move(at(2026, 11, 25, 7, 50))
    with rt.write() as s:
        m1 = _member(s, "m1")
        m1.do_not_disturb = True
        s.add(m1)
    assert run_job(rt, "morning_study", dt.date(2026, 11, 25)) == "done"
    move(at(2026, 11, 25, 9, 0))
    _notices(rt, ["m1"], 1)
    with rt.write() as s:
        people = [_member(s, "m1"), _member(s, "m2")]
        notify.members(s, rt.config, people, "请为承诺 #9 投票", "vote:9", topic="vote_invitation")
        notify.members(s, rt.config, people, "评议公示", "review:9", topic="review_notice")
        sec = _member(s, "sec")
        theme_day.publish(s, rt.config, sec, sec.branch_id, at(2026, 11, 26, 14, 30), "会议室", "学习党章")
        notify.members(s, rt.config, [_member(s, "m1")], "您的补签已通过", "decision:1", topic="decision")
    move(at(2026, 11, 25, 10, 0))
    run_job(rt, "theme_day_reminders", dt.date(2026, 11, 25))
    outbox.Worker(rt, "w").drain()
    by_topic = {m.topic: d for d, m in _rows(rt, "m1")}
    for held in ("study_card", "task", "vote_invitation", "review_notice"):
        assert (by_topic[held].status, by_topic[held].last_error) == ("skipped", "held: 免打扰"), held
    for goes in ("theme_day_publish", "theme_day_reminder_day_before", "decision"):
        assert by_topic[goes].status == "sent", goes
    assert {m.topic: d.status for d, m in _rows(rt, "m2")}["vote_invitation"] == "sent"
    with rt.session() as s:
        assert not study_checkin.received(s, _member(s, "m1"), dt.date(2026, 11, 25))


def test_urgent_notice_reaches_dnd_members_in_quiet_hours_and_members_cannot_send_it(app_rt):
    from tests.callbacks import say_wecom
    client, rt = app_rt
    with rt.write() as s:
        m1 = _member(s, "m1")
        m1.do_not_disturb = True
        s.add(m1)
    move(at(2026, 11, 25, 23, 30))
    assert say_wecom(client, "m1", "紧急通知 明早停水") == "仅限支部书记使用"
    reply = say_wecom(client, "sec", "紧急通知 明早6点起停水，请提前储水")
    assert reply == "紧急通知已发出，共 3 人（含免打扰成员，立即送达）。"
    [(row, message)] = _rows(rt, "m1")
    assert message.delivery_class == "urgent"
    assert row.status == "queued"
    assert row.not_before == clock.now()
    assert "明早6点起停水" in message.payload
    assert "书记甲" in message.payload
    with rt.session() as s:
        from bot.models import AuditLog
        [audit] = s.exec(select(AuditLog).where(AuditLog.action == "urgent_notice")).all()
        assert audit.actor == "sec"
        assert audit.target == "branch:b1"
    assert say_wecom(client, "sec", "紧急通知").startswith("格式：紧急通知 文字")


def test_a_ticket_graded_jinan_notifies_its_handlers_at_once(rt):
    add_roster(rt)
    move(at(2026, 11, 25, 23, 0))
    with rt.write() as s:
        ticket = tickets.report(s, rt.config, _member(s, "m1"), "problem", "宿舍楼电线冒烟")
        ticket_handling.grade(s, rt.config, _member(s, "cw"), ticket.number, "急难")
        number = ticket.number
    [(row, message)] = [(d, m) for d, m in _rows(rt, "sec") if m.topic == "ticket_urgent"]
    assert row.not_before == clock.now()
    assert message.delivery_class == "urgent"
    assert f"#{number}" in message.payload
    assert "急难" in message.payload
    assert not [m for _, m in _rows(rt, "cw") if m.topic == "ticket_urgent"]  # not the one who graded it
