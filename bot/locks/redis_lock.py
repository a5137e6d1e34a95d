"""redis-py's own `Lock` (SET NX PX with a random token, Lua scripts for release and extend) behind the
`Lock` protocol. For coordination with a fallback: while Redis is down (`runtime.live_redis()` is None or
a call fails, reported through `runtime.redis_failed`) the lock is simply not acquired and the caller
takes its database path. Never the scheduler's leadership (bot.locks.LeaderLock)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redis import RedisError
from redis.exceptions import LockError
from redis.lock import Lock as RedisPyLock

from bot.locks.base import LockBase

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


class RedisLock(LockBase):
    """`wait_seconds` > 0: `acquire()` waits up to that long for a holder to finish (0: never waits)."""

    backend = "redis"

    def __init__(self, runtime: Runtime, name: str, holder: str, ttl_seconds: float = 30.0,
                 wait_seconds: float = 0.0) -> None:
        super().__init__(name, holder, ttl_seconds)
        self.runtime = runtime
        self.key = f"{runtime.config.redis.prefix}lock:{name}"
        self.wait_seconds = wait_seconds
        self._lock: RedisPyLock | None = None

    def acquire(self) -> bool:
        with self._guard:
            if self._lock is not None:
                return self._extend()
            client = self.runtime.live_redis()
            if client is None:
                return False
            lock = client.lock(self.key, timeout=self.ttl_seconds, thread_local=False,
                               blocking=self.wait_seconds > 0, blocking_timeout=self.wait_seconds or None)
            try:
                got = lock.acquire(token=self.holder)
            except RedisError as exc:
                self.runtime.redis_failed(f"lock {self.name}", exc)
                return False
            if got:
                self._lock = lock
            return bool(got)

    def renew(self) -> bool:
        with self._guard:
            return self._extend()

    def release(self) -> None:
        with self._guard:
            lock, self._lock = self._lock, None
            if lock is None:
                return
            try:
                lock.release()
            except LockError as exc:  # expired and maybe taken: nothing of ours to release
                log.info("lock %s: already gone at release: %s", self.name, exc)
            except RedisError as exc:
                self.runtime.redis_failed(f"lock {self.name}", exc)

    def _extend(self) -> bool:
        lock = self._lock
        if lock is None:
            return False
        try:
            lock.reacquire()
            return True
        except LockError:
            self._lock = None
            return False
        except RedisError as exc:
            self.runtime.redis_failed(f"lock {self.name}", exc)
            self._lock = None
            return False
