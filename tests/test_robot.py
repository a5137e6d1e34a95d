"""Group robot webhooks against the fake server: per-minute limit (waits, never dropped), 130101 backoff,
unknown branch as a configuration error."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot import clock, outbox
from bot.models import AuditLog, Delivery

pytest_plugins = ("tests.fakewecom",)


def _robots(fake, **extra):
    hooks = {"b1": f"{fake.url}/cgi-bin/webhook/send?key=K1", "b2": f"{fake.url}/cgi-bin/webhook/send?key=K2"}
    return {"robot": {"webhooks": hooks, **extra}}


def _push(rt, codes, content, kind="markdown"):
    with rt.session() as session:
        return outbox.enqueue(session, channel="robot", kind=kind, payload={"content": content},
                              recipients=codes, topic="theme_day_summary", config=rt.config).id


def _rows(rt):
    with rt.session() as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)))


def test_fourth_message_in_a_minute_waits(make_rt, fake_wecom):
    rt = make_rt(**_robots(fake_wecom, per_minute=3))
    for n in range(4):
        _push(rt, ["b1"], f"通知 {n}")
    _push(rt, ["b2"], "另一个群")
    started = clock.wall()
    stats = outbox.Worker(rt, "w").drain()
    assert (stats["sent"], stats["waiting"]) == (4, 1)
    assert [m["markdown"]["content"] for m in fake_wecom.robots["K1"]] == ["通知 0", "通知 1", "通知 2"]
    assert [m["markdown"]["content"] for m in fake_wecom.robots["K2"]] == ["另一个群"]
    waiting = _rows(rt)[3]
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("queued", 0, None)
    assert started + 59 < waiting.retry_at <= clock.wall() + 60
    assert outbox.Worker(rt, "w").run_once() == 0  # still waiting, not dropped


def test_rate_limit_is_shared_through_redis(make_rt, fake_wecom, redis_url, redis_prefix):
    shared = {"redis": {"url": redis_url, "prefix": redis_prefix}}
    first = make_rt(**_robots(fake_wecom, per_minute=3), **shared)
    second = make_rt(**_robots(fake_wecom, per_minute=3), **shared)
    _push(first, ["b1"], "one")
    _push(first, ["b1"], "two")
    assert outbox.Worker(first, "w1").drain()["sent"] == 2
    _push(second, ["b1"], "three")
    _push(second, ["b1"], "four")
    stats = outbox.Worker(second, "w2").drain()
    assert (stats["sent"], stats["waiting"]) == (1, 1)
    assert len(fake_wecom.robots["K1"]) == 3


def test_robot_rate_limit_errcode_backs_off(make_rt, fake_wecom):
    rt = make_rt(**_robots(fake_wecom))
    _push(rt, ["b1"], "x", kind="text")
    fake_wecom.fail_next(130101, path="/cgi-bin/webhook/send")
    worker = outbox.Worker(rt, "w")
    worker.run_once()
    [row] = _rows(rt)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "130101" in row.last_error
    assert row.retry_at > clock.wall()


def test_unknown_branch_is_a_configuration_error(make_rt, fake_wecom):
    rt = make_rt(**_robots(fake_wecom))
    _push(rt, ["b1", "nope"], "x")
    outbox.Worker(rt, "w").drain()
    statuses = {r.recipient: r.status for r in _rows(rt)}
    assert statuses == {"b1": "sent", "nope": "failed"}
    with rt.session() as session:
        [audit] = session.exec(select(AuditLog))
    assert "nope" in audit.detail


@pytest.mark.parametrize(("kind", "payload", "body"), [
    ("textcard", {"title": "t", "description": "d", "url": "http://x"},
     {"msgtype": "news", "news": {"articles": [{"title": "t", "description": "d", "url": "http://x"}]}}),
    ("text", {"content": "hi"}, {"msgtype": "text", "text": {"content": "hi"}}),
])
def test_robot_bodies(kind, payload, body):
    from bot.channels.robot import robot_body

    assert robot_body(kind, payload) == body
