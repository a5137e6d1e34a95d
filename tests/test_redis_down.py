"""Redis is optional: with `[redis] url` pointing at a port where nothing listens, pushes are delivered
(the access token comes from the database), no Redis error costs a delivery an attempt, robots keep their
per-minute limit in the process, and a scheduler still becomes leader (the lock is in the database)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from sqlmodel import select

from bot import clock, outbox
from bot.channels.senders import NotAttempted, SendResult, classify
from bot.models import Delivery, KeyValue
from scheduler import registry
from scheduler.process import SchedulerProcess
from scheduler.registry import Job
from tests.conftest import make_runtime

pytest_plugins = ("tests.fakewecom",)

DEAD = {"redis": {"url": "redis://127.0.0.1:1/0", "prefix": "dead:"}}  # nothing listens on port 1


def _enqueue(rt, recipients, content, channel="wecom"):
    with rt.session() as session:
        return outbox.enqueue(session, channel=channel, kind="text", payload={"content": content},
                              recipients=recipients, topic="reply", config=rt.config).id


def _rows(rt) -> list[Delivery]:
    with rt.session() as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)))


def test_push_is_delivered_with_redis_down(make_rt, fake_wecom):
    rt = make_rt(**DEAD)
    assert rt.redis_status() == "down"
    for n in range(3):
        _enqueue(rt, [f"u{n}", "m1"], f"第 {n} 条")
        stats = outbox.Worker(rt, "w").drain()
        assert stats["sent"] == 2
    assert {(r.status, r.attempts) for r in _rows(rt)} == {("sent", 1)}
    assert [m["content"] for m in fake_wecom.delivered["m1"]] == ["第 0 条", "第 1 条", "第 2 条"]
    assert fake_wecom.gettoken_calls == 1  # the token was cached in the database
    with rt.session() as session:
        [row] = session.exec(select(KeyValue).where(KeyValue.key.startswith("token:wecom:")))
    assert row.value == fake_wecom.sends()[0]["query"]["access_token"]


def test_token_fetched_while_redis_was_up_serves_through_the_outage(make_rt, fake_wecom, redis_url, redis_prefix):
    up = make_rt(redis={"url": redis_url, "prefix": redis_prefix})
    _enqueue(up, ["a"], "before")
    assert outbox.Worker(up, "w1").drain()["sent"] == 1
    down = make_rt(**DEAD)
    _enqueue(down, ["b"], "during")
    assert outbox.Worker(down, "w2").drain()["sent"] == 1
    assert fake_wecom.gettoken_calls == 1
    assert fake_wecom.delivered["b"] == [{"content": "during"}]


def test_an_expired_token_is_refreshed_in_the_database_with_redis_down(make_rt, fake_wecom):
    rt = make_rt(**DEAD)
    _enqueue(rt, ["a"], "one")
    outbox.Worker(rt, "w").drain()
    fake_wecom.expire_token()
    _enqueue(rt, ["b"], "two")
    assert outbox.Worker(rt, "w").drain()["sent"] == 1
    assert fake_wecom.gettoken_calls == 2
    assert [(r.status, r.attempts) for r in _rows(rt)] == [("sent", 1), ("sent", 1)]


class _RedisInTheSendPath:
    """A sender whose own Redis use fails before the platform is reached (what any Redis call raises)."""

    batch_size = 1000

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


def test_a_redis_error_never_counts_as_an_attempt(make_rt, fake_wecom):
    rt = make_rt(**DEAD, delivery={"max_attempts": 2})
    assert classify(redis.ConnectionError("x")).attempted is False
    _enqueue(rt, ["a", "b"], "hello")
    real = rt.extras.setdefault("senders", {})
    rt.extras["senders"] = {"wecom": _RedisInTheSendPath()}
    before = clock.wall()
    for _ in range(3):  # more rounds than max_attempts: still no attempt used, nothing failed
        outbox.Worker(rt, "w").run_once()
        with rt.write() as session:  # make the waiting rows due again at once
            for row in session.exec(select(Delivery)):
                assert (row.status, row.attempts, row.last_error) == ("queued", 0, None)
                assert row.retry_at >= before + NotAttempted.delay
                row.retry_at = 0.0
                session.add(row)
    rt.extras["senders"] = real  # Redis "back": the real sender delivers on the first attempt
    assert outbox.Worker(rt, "w").drain()["sent"] == 2
    assert {(r.status, r.attempts) for r in _rows(rt)} == {("sent", 1)}


def test_robot_limit_holds_in_process_with_redis_down(make_rt, fake_wecom):
    hooks = {"b1": f"{fake_wecom.url}/cgi-bin/webhook/send?key=K1"}
    rt = make_rt(**DEAD, robot={"webhooks": hooks, "per_minute": 2})
    for n in range(3):
        with rt.session() as session:
            outbox.enqueue(session, channel="robot", kind="markdown", payload={"content": f"通知 {n}"},
                           recipients=["b1"], topic="theme_day_summary", config=rt.config)
    stats = outbox.Worker(rt, "w").drain()
    assert (stats["sent"], stats["waiting"], stats["retried"]) == (2, 1, 0)
    assert [m["markdown"]["content"] for m in fake_wecom.robots["K1"]] == ["通知 0", "通知 1"]
    assert [r.attempts for r in _rows(rt)] == [1, 1, 0]


def test_scheduler_leads_with_redis_down(backend, monkeypatch):
    calls: list[str] = []
    probe = Job("probe", lambda _rt, d: calls.append(d.isoformat()) or "ok", per_date=False, default="every 1h")
    monkeypatch.setitem(registry.JOBS, "probe", probe)
    rt = make_runtime(backend, **DEAD)
    procs = [SchedulerProcess(rt, "first", lease_seconds=3), SchedulerProcess(rt, "second", lease_seconds=3)]
    threads = [threading.Thread(target=p.run) for p in procs]
    try:
        for t in threads:
            t.start()
        deadline = clock.monotonic() + 15
        while clock.monotonic() < deadline and not any(p.is_leader for p in procs):
            threading.Event().wait(0.05)
        leaders = [p for p in procs if p.is_leader]
        assert len(leaders) == 1
        [follower] = [p for p in procs if not p.is_leader]
        assert follower.fire("probe") is None
        assert leaders[0].fire("probe") == "done"
        assert calls == ["2026-11-25"]
    finally:
        for p in procs:
            p.stop()
        for t in threads:
            t.join(timeout=15)
        rt.close()


@pytest.mark.parametrize("status", ["down"])
def test_healthz_reports_redis_down_and_stays_200(backend, status):
    from bot.web import build_app

    rt = make_runtime(backend, **DEAD)
    try:
        resp = build_app(runtime=rt).test_client().get("/healthz")
        assert resp.status_code == 200
        assert resp.get_json()["redis"] == status
    finally:
        rt.close()
