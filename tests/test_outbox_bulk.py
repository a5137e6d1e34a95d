"""The set-based fan-out (bot.outbox.bulk, notify.fanout_query: one INSERT ... SELECT from the member table)
plans every row exactly as the row-by-row `notify.fanout` does: quiet hours, 免打扰 (held kinds skipped),
expiry, reply/urgent at once, the budget (a budgeted notice falls back to the planner), the channel per
member, idempotency by key. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import col, select

from bot import notify
from bot.models import Delivery, Member, OutboundMessage
from tests.attendance_helpers import at, move
from tests.conftest import make_runtime
from tests.helpers import add_roster

CASES = [  # (topic, anchor, moment)
    ("study_card", dt.date(2026, 11, 25), at(2026, 11, 25, 7, 50)),  # timed, held by 免打扰
    ("study_card", dt.date(2026, 11, 25), at(2026, 11, 25, 6, 0)),  # in quiet hours: waits for 07:00
    ("duty_reminder", dt.date(2026, 11, 26), at(2026, 11, 25, 22, 0)),  # quiet hours end after expiry
    ("theme_day_publish", at(2026, 11, 27, 8, 0), at(2026, 11, 25, 23, 0)),  # timed, not held
    ("decision", None, at(2026, 11, 25, 23, 0)),  # reply: at once, 免打扰 ignored
    ("urgent_notice", None, at(2026, 11, 25, 23, 0)),  # urgent
    ("task", None, at(2026, 11, 25, 9, 0)),  # budgeted notice: the planner counts the budget
    ("secretary_digest", None, at(2026, 11, 25, 9, 0)),  # unbudgeted notice, held by 免打扰
]


def _rows(rt, key):
    with rt.session() as s:
        stmt = (select(Delivery).join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
                .where(col(OutboundMessage.key).startswith(key)).order_by(col(Delivery.id)))
        return [(d.recipient, d.status, d.not_before, d.last_error, d.created_at, d.attempts) for d in s.exec(stmt)]


def _setup(rt):
    add_roster(rt)
    with rt.write() as s:
        for userid in ("m1", "cw"):
            m = s.exec(select(Member).where(Member.userid == userid)).one()
            m.do_not_disturb = True
            s.add(m)


def _both(rt, topic, anchor, name):
    """The same push row by row (key `a-`) and set-based (key `b-`); their rows."""
    payload = {"content": "请查收"}
    with rt.write() as s:
        people = list(s.exec(select(Member).order_by(col(Member.id))))
        n_rows = notify.fanout(s, rt.config, people, topic=topic, key=f"a-{name}", payload=payload, anchor=anchor)
        ids = select(Member.id)
        n_set = notify.fanout_query(s, rt.config, ids, topic=topic, key=f"b-{name}", payload=payload, anchor=anchor)
    assert n_set == n_rows
    return _rows(rt, f"a-{name}"), _rows(rt, f"b-{name}")


@pytest.mark.parametrize(("topic", "anchor", "moment"), CASES, ids=[f"{c[0]}@{c[2]:%H%M}" for c in CASES])
def test_set_based_rows_equal_the_planned_rows(backend, topic, anchor, moment):
    rt = make_runtime(backend)
    try:
        _setup(rt)
        move(moment)
        if topic == "task":  # m2 is over the daily budget: its task notice is folded either way
            with rt.write() as s:
                m2 = s.exec(select(Member).where(Member.userid == "m2")).one()
                for i in range(rt.config.delivery.daily_budget):
                    notify.members(s, rt.config, [m2], f"任务 {i}", f"pre:{i}", topic="task")
        by_rows, by_set = _both(rt, topic, anchor, topic)
        assert by_rows == by_set
        statuses = {r[0]: r[1] for r in by_set}
        assert "gone" not in statuses  # inactive members get nothing
        if topic in ("study_card", "task", "secretary_digest"):
            assert statuses["m1"] == "skipped"
        if topic in ("decision", "urgent_notice", "theme_day_publish"):
            assert statuses["m1"] == "queued"
        if topic == "duty_reminder":
            assert set(statuses.values()) == {"expired"}
        if topic == "task":
            assert statuses["m2"] == "folded"
    finally:
        rt.close()


def test_set_based_is_idempotent_and_adds_only_new_members(backend):
    rt = make_runtime(backend)
    try:
        _setup(rt)
        move(at(2026, 11, 25, 7, 50))
        payload = {"content": "请查收"}
        for _ in range(2):
            with rt.write() as s:
                notify.fanout_query(s, rt.config, select(Member.id), topic="study_card", key="k", payload=payload,
                                    anchor=dt.date(2026, 11, 25))
        first = _rows(rt, "k")
        with rt.write() as s:
            branch_id = s.exec(select(Member.branch_id).where(Member.userid == "m2")).one()
            s.add(Member(userid="new", name="新党员", branch_id=branch_id))
        with rt.write() as s:
            notify.fanout_query(s, rt.config, select(Member.id), topic="study_card", key="k", payload=payload,
                                anchor=dt.date(2026, 11, 25))
        again = _rows(rt, "k")
        assert again[:len(first)] == first
        assert [r[0] for r in again[len(first):]] == ["new"]
        with rt.session() as s:
            assert len(list(s.exec(select(OutboundMessage)))) == 1
    finally:
        rt.close()


def test_set_based_picks_the_channel_per_member_like_fanout(backend):
    rt = make_runtime(backend, wecom={"corp_id": ""}, wechat={"app_id": "wxapp", "token": "t"})
    try:
        _setup(rt)
        with rt.write() as s:
            m2 = s.exec(select(Member).where(Member.userid == "m2")).one()
            m2.openid = "o-m2"
            s.add(m2)
        move(at(2026, 11, 25, 9, 0))
        by_rows, by_set = _both(rt, "secretary_digest", None, "ch")
        assert by_rows == by_set
        assert "o-m2" in {r[0] for r in by_set}
        assert "m2" not in {r[0] for r in by_set}
        with rt.session() as s:
            channels = sorted(m.channel for m in s.exec(select(OutboundMessage).where(
                col(OutboundMessage.key).startswith("b-"))))
        assert channels == ["wechat", "wecom"]
    finally:
        rt.close()
