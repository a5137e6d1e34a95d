"""bot.ratelimit.RateLimiter, the one limiter behind the console login throttle and the robot limit: the
same answers from Redis, from the database fallback and from the in-process fallback."""

from __future__ import annotations

import threading
import uuid

import pytest

from bot import clock
from bot.ratelimit import RateLimiter
from tests.conftest import make_runtime

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(params=["redis", "local", "database"])
def limiter_for(request, backend):
    """A factory of limiters on one store: live Redis (fallback unused), or Redis down + a fallback."""
    if request.param == "redis":
        rt = make_runtime(backend, redis={"url": request.getfixturevalue("redis_url"),
                                          "prefix": request.getfixturevalue("redis_prefix")})
    else:
        rt = make_runtime(backend, redis={"url": DEAD_REDIS})
    fallback = "database" if request.param == "database" else "local"

    def build(limit, window=60.0, count_refused=False):
        return RateLimiter(rt, f"t-{uuid.uuid4().hex[:6]}", limit, window, fallback=fallback,
                           count_refused=count_refused or fallback == "database")

    yield build, request.param
    rt.close()


def test_limit_retry_at_undo_and_reset(limiter_for):
    build, store = limiter_for
    limiter = build(3)
    started = clock.wall()
    verdicts = [limiter.hit("k") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.count for v in verdicts[:3]] == [1, 2, 3]
    assert verdicts[3].retry_at is not None
    assert started + 59 < verdicts[3].retry_at <= clock.wall() + 60
    assert limiter.hit("other").allowed  # keys are independent
    limiter.reset("k")
    assert limiter.hit("k").allowed
    counting = build(2, count_refused=True)
    assert [counting.hit("k").allowed for _ in range(3)] == [True, True, False]
    counting.undo("k")  # the refused hit given back: still at the limit (2 counted)
    assert counting.hit("k").count == 3
    if store != "database":  # by default a refused hit does not count (a robot message that waits)
        single = build(1)
        assert [(v.allowed, v.count) for v in (single.hit("k"), single.hit("k"), single.hit("k"))] == [
            (True, 1), (False, 1), (False, 1)]


def test_the_window_slides(limiter_for):
    build, _store = limiter_for
    limiter = build(2, window=0.4)
    assert limiter.hit("k").allowed
    assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed
    threading.Event().wait(0.5)
    assert limiter.hit("k").allowed


def test_concurrent_hits_never_exceed_the_limit(limiter_for):
    build, _store = limiter_for
    limiter = build(5)
    results: list[bool] = []
    barrier = threading.Barrier(12)

    def go():
        barrier.wait()
        results.append(limiter.hit("k").allowed)

    threads = [threading.Thread(target=go) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False] * 7 + [True] * 5


def test_bad_settings_are_refused(sqlite_url):
    rt = make_runtime(sqlite_url)
    try:
        with pytest.raises(ValueError, match="positive"):
            RateLimiter(rt, "x", 0, 60)
        with pytest.raises(ValueError, match="count_refused"):
            RateLimiter(rt, "x", 1, 60, fallback="database")
    finally:
        rt.close()
