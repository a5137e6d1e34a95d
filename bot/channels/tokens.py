"""The platform access token shared by every process (`TokenCache`).

A token is written to the `key_value` table and, when Redis answers, to Redis too (TTL = expires_in minus a
margin); it is read from Redis first, else from the table, so a Redis outage costs no send and no extra
`gettoken`. `refresh()` runs the fetch under a lock (`bot.locks.redis_lock.RedisLock` while Redis answers;
else a process lock plus the row itself: BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL) and
skips it when another holder of the lock already stored a token different from the stale one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from redis import RedisError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select

from bot import clock
from bot.models import KeyValue

if TYPE_CHECKING:
    from bot.runtime import Runtime

Fetch = Callable[[], tuple[str, int]]  # -> (token, expires_in seconds)

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(name: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(name, threading.Lock())


def token_ttl(expires_in: int) -> int:
    """How long a fetched token is kept: its lifetime minus 5 minutes (half of a short lifetime)."""
    margin = 300 if expires_in > 600 else expires_in // 2
    return max(1, int(expires_in) - margin)


class TokenCache:
    """The access token of one (app, secret); see the module docstring."""

    def __init__(self, runtime: Runtime, app: str, secret: str, wait_seconds: float) -> None:
        self.runtime = runtime
        digest = hashlib.sha256(secret.encode()).hexdigest()[:16]  # never the secret itself
        self.name = f"token:{app}:{digest}"  # the key_value row
        self.key = runtime.config.redis.prefix + self.name  # the Redis key
        self.wait_seconds = wait_seconds

    def get(self) -> str | None:
        redis = self.runtime.live_redis()
        if redis is not None:
            try:
                value = redis.get(self.key)
            except RedisError as exc:
                self.runtime.redis_failed("token cache", exc)
            else:
                if value:
                    return value.decode() if isinstance(value, bytes) else str(value)
        return self._db_get()

    def refresh(self, fetch: Fetch, stale: str | None) -> str:
        """A fresh token: `fetch()` -> (token, expires_in) unless someone replaced `stale` meanwhile."""
        from bot.locks import default_holder
        from bot.locks.redis_lock import RedisLock

        lock = RedisLock(self.runtime, self.name, default_holder(), ttl_seconds=self.wait_seconds + 30,
                         wait_seconds=self.wait_seconds + 5)
        if lock.acquire():  # else Redis is down or the holder is stuck: the database path below
            try:
                current = self.get()
                if current and current != stale:
                    return current
                fetched = fetch()
                token = self._db_refresh(lambda: fetched, stale)  # the copy a Redis outage reads
                redis = self.runtime.live_redis()
                if redis is not None:
                    redis.set(self.key, token, ex=token_ttl(fetched[1]))
                return token
            except RedisError as exc:  # a token fetched above is in the table already
                self.runtime.redis_failed("token refresh", exc)
            finally:
                lock.release()
        return self._db_refresh(fetch, stale)

    def _db_get(self) -> str | None:
        with self.runtime.session() as session:
            row = session.get(KeyValue, self.name)
            if row is not None and row.value and row.expires > clock.wall():
                return row.value
        return None

    def _db_refresh(self, fetch: Fetch, stale: str | None) -> str:
        with _process_lock(self.name), self.runtime.write() as session:
            row: KeyValue | None
            if self.runtime.is_postgres:
                session.exec(pg_insert(KeyValue).values(key=self.name, value="", expires=0.0)
                             .on_conflict_do_nothing(index_elements=["key"]))
                row = session.exec(select(KeyValue).where(KeyValue.key == self.name).with_for_update()).one()
            else:
                row = session.get(KeyValue, self.name)
            if row is not None and row.value and row.value != stale and row.expires > clock.wall():
                return row.value
            token, expires_in = fetch()
            if row is None:
                row = KeyValue(key=self.name, value=token)
            row.value, row.expires = token, clock.wall() + token_ttl(expires_in)
            session.add(row)
            return token
