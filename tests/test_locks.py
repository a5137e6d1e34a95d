"""LeaderLock on its two backends, PostgreSQL advisory locks and the SQLite Lease table; never Redis."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis

from bot.locks import LeaderLock, LockBusy, advisory_key, try_lock
from bot.runtime import Runtime
from tests.conftest import make_runtime

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there: Redis is down


@pytest.fixture(params=["sqlite+dead-redis", "postgresql+dead-redis", "postgresql", "sqlite"])
def lock_rt(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    if request.param.endswith("+dead-redis"):
        url = request.getfixturevalue("postgres_url" if request.param.startswith("postgresql") else "sqlite_url")
        runtime = make_runtime(url, redis={"url": DEAD_REDIS})
    elif request.param == "postgresql":
        runtime = make_runtime(request.getfixturevalue("postgres_url"))
    else:
        runtime = make_runtime(request.getfixturevalue("sqlite_url"))
    yield runtime
    runtime.close()


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def _kill_holder_session(runtime: Runtime, name: str) -> None:
    """Terminate the PostgreSQL session holding the advisory lock, as if its process had died."""
    conninfo = runtime.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    key = advisory_key(name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s::bigint::oid AND objid = %s::bigint::oid",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
        assert row is not None
        assert row[0] is True


def test_backend_follows_the_runtime(lock_rt: Runtime) -> None:
    lock = LeaderLock(lock_rt, _name(), "a", 5)
    expected = "postgresql" if lock_rt.is_postgres else "lease"
    assert lock.backend == expected


def test_second_holder_is_refused_until_release(lock_rt: Runtime) -> None:
    name = _name()
    first, second = LeaderLock(lock_rt, name, "a", 5), LeaderLock(lock_rt, name, "b", 5)
    assert first.acquire() is True
    assert first.acquire() is True  # already ours
    assert second.acquire() is False
    assert second.renew() is False
    assert first.renew() is True
    first.release()
    assert second.acquire() is True
    assert first.acquire() is False
    assert first.renew() is False
    first.release()  # not ours: must not free it
    third = LeaderLock(lock_rt, name, "c", 5)
    assert third.acquire() is False
    second.release()
    assert third.acquire() is True
    third.release()


def test_expired_or_dead_holder_is_taken_over(lock_rt: Runtime) -> None:
    name = _name()
    first, second = LeaderLock(lock_rt, name, "a", 0.3), LeaderLock(lock_rt, name, "b", 5)
    assert first.acquire() is True
    assert second.acquire() is False
    if lock_rt.is_postgres:
        _kill_holder_session(lock_rt, name)  # advisory locks end with their session, not with a ttl
    else:
        time.sleep(0.5)
    assert second.acquire() is True
    assert first.renew() is False
    first.release()
    assert second.renew() is True
    second.release()


def test_only_one_of_many_contenders_wins(lock_rt: Runtime) -> None:
    name = _name()
    locks = [LeaderLock(lock_rt, name, f"holder-{i}", 5) for i in range(6)]
    barrier = threading.Barrier(len(locks))
    results: dict[str, bool] = {}

    def contend(lock: LeaderLock) -> None:
        barrier.wait(timeout=10)
        results[lock.holder] = lock.acquire()

    threads = [threading.Thread(target=contend, args=(lock,)) for lock in locks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(results) == len(locks)
    assert sum(results.values()) == 1
    for lock in locks:
        lock.release()


def test_context_managers(lock_rt: Runtime) -> None:
    name = _name()
    with try_lock(lock_rt, name, 5) as got:
        assert got is True
        with try_lock(lock_rt, name, 5) as again:
            assert again is False
        with pytest.raises(LockBusy), LeaderLock(lock_rt, name, "other", 5):
            pass
    with LeaderLock(lock_rt, name, "other", 5) as held:
        assert held.renew() is True
    third = LeaderLock(lock_rt, name, "third", 5)
    assert third.acquire() is True
    third.release()


@pytest.mark.parametrize("database", ["sqlite_url", "postgres_url"])
def test_a_live_redis_is_never_used_for_the_lock(database: str, redis_url: str, redis_prefix: str,
                                                 request: pytest.FixtureRequest) -> None:
    """Two processes that each see a different Redis namespace (as in a partition: each side its own
    Redis) still contend for one lock in the one database, and nothing is written to Redis."""
    url = request.getfixturevalue(database)
    side_a = make_runtime(url, redis={"url": redis_url, "prefix": redis_prefix})
    side_b = make_runtime(url, redis={"url": redis_url, "prefix": redis_prefix + "other-side:"})
    try:
        first, second = LeaderLock(side_a, "scheduler", "a", 5), LeaderLock(side_b, "scheduler", "b", 5)
        assert first.acquire() is True
        assert second.acquire() is False
        client = redis.Redis.from_url(redis_url)
        assert list(client.scan_iter(match=redis_prefix + "*")) == []
        client.close()
        first.release()
        assert second.acquire() is True
        second.release()
    finally:
        side_a.close()
        side_b.close()


def test_bad_ttl_is_rejected(sqlite_url: str) -> None:
    runtime = make_runtime(sqlite_url)
    try:
        with pytest.raises(ValueError, match="ttl_seconds"):
            LeaderLock(runtime, "x", "a", 0)
    finally:
        runtime.close()


# -- the Redis backend (redis-py's Lock): coordination with a database fallback, never leadership ---------


def test_redis_lock_excludes_renews_expires_and_releases(sqlite_url: str, redis_url: str, redis_prefix: str) -> None:
    from bot.locks.redis_lock import RedisLock

    runtime = make_runtime(sqlite_url, redis={"url": redis_url, "prefix": redis_prefix})
    try:
        name = _name()
        first, second = RedisLock(runtime, name, "a", 0.5), RedisLock(runtime, name, "b", 5)
        assert first.acquire() is True
        assert first.acquire() is True  # already ours: extended
        assert second.acquire() is False
        assert runtime.redis is not None
        assert runtime.redis.get(f"{redis_prefix}lock:{name}") == b"a"  # the holder is redis-py's token
        assert first.renew() is True
        time.sleep(0.7)  # the ttl passes without a renewal
        assert second.acquire() is True
        assert first.renew() is False  # expired and taken
        first.release()  # not ours any more: a no-op
        assert runtime.redis.get(f"{redis_prefix}lock:{name}") == b"b"
        second.release()
        assert runtime.redis.get(f"{redis_prefix}lock:{name}") is None
        waiting = RedisLock(runtime, name, "c", 5, wait_seconds=2)
        with RedisLock(runtime, name, "d", 0.3):
            started = time.monotonic()
            assert waiting.acquire() is True  # waited for the 0.3 s holder to expire
            assert time.monotonic() - started < 2
        waiting.release()
    finally:
        runtime.close()


def test_redis_lock_with_redis_down_is_not_acquired(sqlite_url: str) -> None:
    from bot.locks.redis_lock import RedisLock

    runtime = make_runtime(sqlite_url, redis={"url": DEAD_REDIS})
    try:
        lock = RedisLock(runtime, _name(), "a", 5)
        assert lock.acquire() is False
        assert lock.renew() is False
        lock.release()
        with pytest.raises(LockBusy):
            lock.__enter__()
    finally:
        runtime.close()
