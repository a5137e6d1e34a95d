"""One rate limiter for every throttle: at most `limit` hits per key in `window` seconds of wall time.

    limiter = RateLimiter(runtime, "robot", limit=20, window=60, fallback="local")
    verdict = limiter.hit(key)  # counts the hit; verdict.allowed, verdict.count, verdict.retry_at

Redis first, while it answers (shared by every process): a sliding window in a sorted set, one Lua call,
so concurrent hits cannot slip past the limit between a read and a write. When Redis is not configured or
fails (reported through `runtime.redis_failed`), the fallback the use chose:
- "local": the same sliding window in this process (robots: a message waits, nothing is lost);
- "database": a fixed-window counter row in `login_throttle` (`INSERT ... ON CONFLICT DO UPDATE ...
  RETURNING`, atomic on SQLite and PostgreSQL; shared by processes). It counts every hit (`count_refused`).

`count_refused`: a refused hit counts too (a login guess over the limit keeps the window full); else only
allowed hits count (a message that waits is not sent). `undo(key)` gives the latest hit back, `reset(key)`
forgets the key. Users: the console login throttle (bot.admin.throttle), the robot per-minute limit
(bot.channels.robot).
"""

from __future__ import annotations

import collections
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis as redis_lib
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from bot import clock
from bot.models import LoginThrottle as Counter

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# KEYS[1] window; ARGV now, window, limit, member, count_refused. -> {allowed, count, oldest hit}
_SLIDING_WINDOW = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local allowed = n < limit
if allowed or ARGV[5] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  n = n + 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {allowed and 1 or 0, n, tostring(oldest[2] or now)}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int  # hits in the window, this one included when it counted
    retry_at: float | None = None  # refused: the wall time a hit may be allowed again


class RateLimiter:
    def __init__(self, runtime: Runtime, name: str, limit: int, window: float, fallback: str = "local",
                 count_refused: bool = False) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit and window must be positive")
        if fallback not in ("local", "database"):
            raise ValueError("fallback must be 'local' or 'database'")
        if fallback == "database" and not count_refused:
            raise ValueError("the database fallback counts every hit (count_refused=True)")
        self.runtime, self.name, self.limit, self.window = runtime, name, limit, float(window)
        self.fallback, self.count_refused = fallback, count_refused
        self._script: Any = None
        self._local: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def redis_key(self, key: str) -> str:
        return f"{self.runtime.config.redis.prefix}rate:{self.name}:{key}"

    def db_key(self, key: str) -> str:
        """The `login_throttle` row of `key`: "name:key", or name and a digest when that is too long."""
        full = f"{self.name}:{key}"
        return full if len(full) <= 64 else f"{self.name[:23]}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"

    def hit(self, key: str) -> Verdict:
        now = clock.wall()
        client = self.runtime.live_redis()
        if client is not None:
            try:
                if self._script is None:
                    self._script = client.register_script(_SLIDING_WINDOW)
                allowed, count, oldest = self._script(keys=[self.redis_key(key)], args=[
                    now, self.window, self.limit, uuid.uuid4().hex, int(self.count_refused)])
            except redis_lib.RedisError as exc:
                self.runtime.redis_failed(f"rate limit {self.name}", exc)
            else:
                oldest = float(oldest.decode() if isinstance(oldest, bytes) else oldest)
                return Verdict(bool(allowed), int(count), None if allowed else oldest + self.window)
        return self._db_hit(key, now) if self.fallback == "database" else self._local_hit(key, now)

    def undo(self, key: str) -> None:
        """Give the latest hit of `key` back (e.g. a login that turned out right)."""
        def local(hits: collections.deque[float]) -> None:
            if hits:
                hits.pop()

        self._change(key, lambda client, rkey: client.zpopmax(rkey), local,
                     update(Counter).where(col(Counter.key) == self.db_key(key), col(Counter.count) > 0)
                     .values(count=col(Counter.count) - 1))

    def reset(self, key: str) -> None:
        """Forget every hit of `key`."""
        self._change(key, lambda client, rkey: client.delete(rkey), lambda hits: hits.clear(),
                     delete(Counter).where(col(Counter.key) == self.db_key(key)))

    def _change(self, key: str, on_redis: Callable[[redis_lib.Redis, str], Any],
                on_local: Callable[[collections.deque[float]], None], on_db: Any) -> None:
        client = self.runtime.live_redis()
        if client is not None:
            try:
                on_redis(client, self.redis_key(key))
                return
            except redis_lib.RedisError as exc:
                self.runtime.redis_failed(f"rate limit {self.name}", exc)
        if self.fallback == "local":
            with self._lock:
                on_local(self._local[key])
            return
        with self.runtime.write() as session:
            session.execute(on_db)

    def _local_hit(self, key: str, now: float) -> Verdict:
        with self._lock:
            hits = self._local[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed or self.count_refused:
                hits.append(now)
            return Verdict(allowed, len(hits), None if allowed else hits[0] + self.window)

    def _db_hit(self, key: str, now: float) -> Verdict:
        insert = pg_insert if self.runtime.is_postgres else sqlite_insert
        expired = col(Counter.expires) <= now
        count, expires = col(Counter.count), col(Counter.expires)
        stmt = insert(Counter).values(key=self.db_key(key), count=1, expires=now + self.window)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
            "count": case((expired, 1), else_=count + 1),
            "expires": case((expired, now + self.window), else_=expires)})
        with self.runtime.write() as session:
            n, until = session.execute(stmt.returning(count, expires)).one()
        self._sweep(now)
        allowed = int(n) <= self.limit
        return Verdict(allowed, int(n), None if allowed else float(until))

    def _sweep(self, now: float) -> None:
        """Drop long-expired counters (rows another hit holds are skipped, never waited for)."""
        with self.runtime.session() as session:
            stale = (select(col(Counter.key)).where(col(Counter.expires) <= now - self.window).limit(200)
                     .with_for_update(skip_locked=True))
            session.execute(delete(Counter).where(col(Counter.key).in_(stale.scalar_subquery())))
