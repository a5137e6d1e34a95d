"""The outbox against the fake WeCom server and real SQLite/PostgreSQL: batching, retries, errors,
quiet hours, daily budget, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot import clock, outbox
from bot.models import AuditLog, Delivery, OutboundMessage
from tests.conftest import DEFAULT_NOW, make_config

pytest_plugins = ("tests.fakewecom",)


def _enqueue(rt, recipients, content="今日学习", **kw):
    urgent, reply = kw.pop("urgent", False), kw.pop("reply", False)
    kw.setdefault("topic", "urgent_notice" if urgent else "reply" if reply else "task")
    with rt.session() as session:
        message = outbox.enqueue(session, channel=kw.pop("channel", "wecom"), kind=kw.pop("kind", "text"),
                                 payload=kw.pop("payload", {"content": content}), recipients=recipients,
                                 config=rt.config, **kw)
        return message.id


def _rows(rt, message_id=None):
    with rt.session() as session:
        query = select(Delivery).order_by(Delivery.id)
        if message_id is not None:
            query = query.where(Delivery.message_id == message_id)
        return {d.recipient: d for d in session.exec(query)}


def _audits(rt):
    with rt.session() as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == "delivery_config_error")))


def test_2500_recipients_go_in_three_calls(make_rt, fake_wecom):
    rt = make_rt()
    users = [f"u{i:05d}" for i in range(2500)]
    _enqueue(rt, users)
    stats = outbox.Worker(rt, "w1").drain()
    sends = fake_wecom.sends()
    assert [len(c["body"]["touser"].split("|")) for c in sends] == [1000, 1000, 500]
    assert all(c["body"]["enable_duplicate_check"] == 1 for c in sends)
    assert sends[0]["body"]["agentid"] == 1000002
    assert sends[0]["body"]["duplicate_check_interval"] == 1800
    assert stats["sent"] == 2500
    rows = _rows(rt)
    assert {r.status for r in rows.values()} == {"sent"}
    assert all(r.sent_at == DEFAULT_NOW and r.attempts == 1 for r in rows.values())
    assert sorted(fake_wecom.delivered) == users
    assert all(v == [{"content": "今日学习"}] for v in fake_wecom.delivered.values())


def test_enqueue_is_idempotent_by_key(make_rt):
    rt = make_rt()
    first = _enqueue(rt, ["a", "b"], key="study:2026-11-25")
    second = _enqueue(rt, ["b", "c", "c", " a "], content="changed", key="study:2026-11-25")
    assert first == second
    assert sorted(_rows(rt)) == ["a", "b", "c"]
    with rt.session() as session:
        messages = list(session.exec(select(OutboundMessage)))
    assert len(messages) == 1
    assert '"今日学习"' in messages[0].payload  # the first body is kept


def test_text_over_2048_bytes_is_refused(make_rt):
    rt = make_rt()
    with pytest.raises(ValueError, match="2049 bytes"):
        _enqueue(rt, ["a"], content="学" * 683)  # 3 bytes each
    _enqueue(rt, ["a"], content="学" * 682 + "ab")  # exactly 2048
    with pytest.raises(ValueError, match="over 2048"):
        _enqueue(rt, ["a"], kind="markdown", content="x" * 2049)
    with pytest.raises(ValueError, match="unknown kind"):
        _enqueue(rt, ["a"], kind="voice")
    assert list(_rows(rt)) == ["a"]


@pytest.mark.parametrize(("window", "now", "expected"), [
    ("21:30-07:00", (22, 0), (26, 7, 0)),
    ("21:30-07:00", (3, 0), (25, 7, 0)),
    ("21:30-07:00", (21, 29), (25, 21, 29)),
    ("21:30-07:00", (7, 0), (25, 7, 0)),
    ("12:00-14:00", (13, 0), (25, 14, 0)),
    ("12:00-14:00", (14, 30), (25, 14, 30)),
    ("", (23, 0), (25, 23, 0)),
])
def test_quiet_end(window, now, expected):
    tz = clock.tz()
    cfg = make_config(delivery={"quiet_hours": window})
    moment = dt.datetime(2026, 11, 25, *now, tzinfo=tz)
    assert outbox.quiet_end(moment, cfg.delivery.quiet_window()) == dt.datetime(2026, 11, *expected, tzinfo=tz)


def test_quiet_hours_defer_non_urgent_but_not_urgent(make_rt):
    rt = make_rt()
    now = dt.datetime(2026, 11, 25, 22, 0, tzinfo=clock.tz())
    clock.freeze(now)
    normal = _enqueue(rt, ["a"])
    urgent = _enqueue(rt, ["a"], urgent=True)
    reply = _enqueue(rt, ["a"], reply=True)
    assert _rows(rt, normal)["a"].not_before == dt.datetime(2026, 11, 26, 7, 0, tzinfo=clock.tz())
    assert _rows(rt, urgent)["a"].not_before == now
    assert _rows(rt, reply)["a"].not_before == now
    assert outbox.Worker(rt, "w").drain()["sent"] == 2
    assert _rows(rt, normal)["a"].status == "queued"


def test_quiet_hours_release_the_message_at_their_end(make_rt, fake_wecom):
    rt = make_rt()
    clock.freeze(dt.datetime(2026, 11, 25, 23, 0, tzinfo=clock.tz()))
    _enqueue(rt, ["a"])
    assert outbox.Worker(rt, "w").drain()["sent"] == 0
    clock.freeze(dt.datetime(2026, 11, 26, 7, 0, tzinfo=clock.tz()))
    assert outbox.Worker(rt, "w").drain()["sent"] == 1
    assert fake_wecom.delivered["a"] == [{"content": "今日学习"}]


def test_notices_over_the_daily_budget_are_folded_not_moved_to_another_day(make_rt):
    rt = make_rt(delivery={"daily_budget": 2})
    for n in range(4):
        _enqueue(rt, ["a", "b"] if n < 3 else ["a"], content=f"push {n}")
    _enqueue(rt, ["a"], content="urgent", urgent=True)
    _enqueue(rt, ["a"], content="reply", reply=True)
    today = DEFAULT_NOW
    with rt.session() as session:
        def rows(who):
            query = select(Delivery.not_before, Delivery.status).where(Delivery.recipient == who).order_by(Delivery.id)
            return [tuple(row) for row in session.exec(query)]

        assert rows("a") == [(today, "queued"), (today, "queued"), (today, "folded"), (today, "folded"),
                             (today, "queued"), (today, "queued")]  # urgent and reply: outside the budget
        assert rows("b") == [(today, "queued"), (today, "queued"), (today, "folded")]
    crowd = [f"c{i:03d}" for i in range(300)]  # many recipients: one grouped count for the whole day
    for n in range(5):
        _enqueue(rt, crowd, content=f"crowd {n}")
    with rt.session() as session:
        assert [status for _, status in rows("c123")] == ["queued", "queued", "folded", "folded", "folded"]
        assert {when for when, _ in rows("c123")} == {today}
        folded = session.exec(select(Delivery.last_error).join(OutboundMessage)
                              .where(OutboundMessage.payload.contains("crowd 4")))
        assert set(folded) == {"folded: over daily_budget 2"}


def test_transient_errors_are_retried_with_backoff_then_sent(make_rt, fake_wecom):
    rt = make_rt(delivery={"backoff_seconds": 0.1})
    _enqueue(rt, ["a", "b"])
    fake_wecom.fail_next(45009)
    fake_wecom.fail_next(-1)
    worker = outbox.Worker(rt, "w")
    before = clock.wall()
    assert worker.run_once() == 2
    row = _rows(rt)["a"]
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "errcode 45009: fake error 45009")
    assert before + 0.1 <= row.retry_at <= clock.wall() + 0.1
    assert worker.run_once() == 0  # backing off
    clock.skip(row.retry_at - clock.wall() + 0.01)  # the backoff runs out without waiting for it
    before = clock.wall()
    assert worker.run_once() == 2
    row = _rows(rt)["a"]
    assert (row.status, row.attempts, row.last_error) == ("queued", 2, "errcode -1: fake error -1")
    assert before + 0.2 <= row.retry_at <= clock.wall() + 0.2  # doubled
    clock.skip(row.retry_at - clock.wall() + 0.01)
    assert worker.drain()["sent"] == 2
    assert {(r.status, r.attempts) for r in _rows(rt).values()} == {("sent", 3)}
    assert len(fake_wecom.sends()) == 3
    assert fake_wecom.delivered == {"a": [{"content": "今日学习"}], "b": [{"content": "今日学习"}]}
    assert _audits(rt) == []


def test_backoff_is_capped(make_rt, fake_wecom):
    rt = make_rt(delivery={"backoff_seconds": 10, "backoff_max_seconds": 25, "max_attempts": 9})
    _enqueue(rt, ["a"])
    worker = outbox.Worker(rt, "w")
    delays = []
    for _ in range(3):
        fake_wecom.fail_next(-1)
        with rt.write() as session:  # make the row due again without waiting for the backoff
            session.exec(update(Delivery).values(retry_at=0.0))
        before = clock.wall()
        worker.run_once()
        delays.append(round(_rows(rt)["a"].retry_at - before))
    assert delays == [10, 20, 25]


def test_transient_errors_give_up_after_max_attempts(make_rt, fake_wecom):
    rt = make_rt(delivery={"max_attempts": 2, "backoff_seconds": 0.01})
    _enqueue(rt, ["a"])
    fake_wecom.fail_with_status(502, times=5)
    worker = outbox.Worker(rt, "w")
    worker.run_once()
    clock.skip(0.02)
    worker.run_once()
    row = _rows(rt)["a"]
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "HTTP 502")
    assert len(fake_wecom.sends()) == 2


def test_timeout_is_retried(make_rt, fake_wecom):
    rt = make_rt(wecom={"timeout": 0.3})
    _enqueue(rt, ["a"])
    fake_wecom.delay(0.6, times=1)
    worker = outbox.Worker(rt, "w")
    assert worker.run_once() == 1
    row = _rows(rt)["a"]
    assert row.status == "queued"
    assert row.attempts == 1
    assert row.last_error.startswith("timeout")
    clock.skip(0.06)
    assert worker.drain()["sent"] == 1
    assert _rows(rt)["a"].status == "sent"


def test_configuration_errors_fail_at_once_and_alert(make_rt, fake_wecom, caplog):
    rt = make_rt()
    worker = outbox.Worker(rt, "w")
    codes = [48001, 60020, 81013, 40001, 301002]
    ids = {}
    for errcode in codes:
        ids[errcode] = _enqueue(rt, ["a", "b"], content=f"message {errcode}")
        fake_wecom.fail_next(errcode)
        assert worker.run_once() == 2
    assert worker.stats["failed"] == 2 * len(codes)
    for errcode, message_id in ids.items():
        rows = _rows(rt, message_id)
        assert {(r.status, r.attempts) for r in rows.values()} == {("failed", 1)}
        assert rows["a"].last_error == f"errcode {errcode}: fake error {errcode}"
    clock.skip(0.06)
    assert worker.run_once() == 0  # never retried
    assert len(fake_wecom.sends()) == len(codes)
    assert fake_wecom.delivered == {}
    audits = _audits(rt)
    assert [(a.actor, a.target) for a in audits] == [("outbox", f"message:{ids[c]}") for c in codes]
    assert all(str(c) in a.detail for a, c in zip(audits, codes, strict=True))
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert all(any(str(c) in e for e in errors) for c in codes)


def test_configuration_error_alerts_the_roster_admins_once_a_day(make_rt, fake_wecom):
    from bot.models import Member, OutboundMessage

    rt = make_rt()
    with rt.session() as session:
        session.add(Member(userid="adm", name="管理员", roles="member;admin"))
        session.add(Member(userid="mem", name="党员", roles="member"))
    worker = outbox.Worker(rt, "w")
    _enqueue(rt, ["a"], content="first")
    fake_wecom.fail_next(60020)
    worker.drain()
    assert len(fake_wecom.delivered["adm"]) == 1
    assert "60020" in fake_wecom.delivered["adm"][0]["content"]
    assert "mem" not in fake_wecom.delivered
    _enqueue(rt, ["b"], content="second")
    fake_wecom.fail_next(60020)
    fake_wecom.fail_next(60020)  # a failing alert raises no alert of its own
    worker.drain()
    assert len(fake_wecom.delivered["adm"]) == 1  # one alert a day per channel
    with rt.session() as session:
        alerts = session.exec(select(OutboundMessage).where(OutboundMessage.created_by == outbox.ALERT_SENDER))
        assert len(list(alerts)) == 1


def test_invaliduser_fails_only_those_rows(make_rt, fake_wecom):
    rt = make_rt()
    _enqueue(rt, ["a", "gone", "b", "nolicense"])
    fake_wecom.invalid_users({"gone"})
    fake_wecom.unlicensed_users({"nolicense"})
    outbox.Worker(rt, "w").drain()
    rows = _rows(rt)
    assert {k: (v.status, v.last_error) for k, v in rows.items()} == {
        "a": ("sent", None), "b": ("sent", None),
        "gone": ("failed", "invaliduser"), "nolicense": ("failed", "unlicenseduser")}
    assert _audits(rt) == []
    fake_wecom.invalid_users({"x", "y"})
    _enqueue(rt, ["x", "y"], content="second")
    outbox.Worker(rt, "w").drain()
    assert _rows(rt)["x"].status == "failed"
    assert len(_audits(rt)) == 1  # all recipients invalid: 81013, a configuration error


def test_expired_messages_are_not_sent(make_rt, fake_wecom):
    rt = make_rt()
    _enqueue(rt, ["a"], topic="theme_day_reminder_2h", anchor=DEFAULT_NOW + dt.timedelta(minutes=5))
    clock.freeze(DEFAULT_NOW + dt.timedelta(minutes=6))
    assert outbox.Worker(rt, "w").drain()["expired"] == 1
    assert _rows(rt)["a"].status == "expired"
    assert _rows(rt)["a"].last_error == "expired: theme_day_reminder_2h (at_start) at 2026-11-25 09:05"
    assert fake_wecom.sends() == []


def test_a_dead_workers_rows_come_back_after_the_lease(make_rt, fake_wecom):
    rt = make_rt(delivery={"lease_seconds": 0.3})
    _enqueue(rt, ["a", "b"])
    dead = outbox.Worker(rt, "dead")
    assert len(dead._claim()) == 2  # claimed, then the process "dies"
    alive = outbox.Worker(rt, "alive")
    assert alive.run_once() == 0
    clock.skip(0.31)  # the lease runs out
    assert alive.drain()["sent"] == 2
    assert {(r.status, r.worker) for r in _rows(rt).values()} == {("sent", None)}


def test_console_sender_prints_when_wecom_is_not_configured(make_rt, fake_wecom, capsys):
    rt = make_rt(wecom={"corp_id": ""})
    _enqueue(rt, ["a", "b"], content="第一行\n第二行")
    _enqueue(rt, ["a"], kind="textcard", payload={"title": "学习", "description": "摘要", "url": "http://x/s"})
    assert outbox.Worker(rt, "w").drain()["sent"] == 3
    out = capsys.readouterr().out
    assert "[wecom → a] text\n第一行\n第二行" in out
    assert "[wecom → b] text" in out
    assert "[wecom → a] textcard\n学习\n摘要\nhttp://x/s" in out
    assert fake_wecom.calls == []
