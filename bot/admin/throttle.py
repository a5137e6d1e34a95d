"""The console's failed-login throttle: atomic counters per (username, IP), per IP and per username.

Every attempt is counted *before* the password is checked (one atomic increment per counter: Redis
`MULTI`/`INCR`, else a single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` in the `login_throttle`
table), and an attempt that takes any counter over its limit is refused without checking the password.
So concurrent guesses cannot slip past the limit between a read and a write. A successful login undoes
its own count and clears the (username, IP) counter. Windows are fixed and use wall time.
"""

from __future__ import annotations

import hashlib
import logging

import redis as redis_lib
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from bot import clock
from bot.models import LoginThrottle as Counter
from bot.runtime import Runtime

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_FAILURES = 5  # one username from one address
LIMITS = {"pair": MAX_FAILURES, "ip": 20, "user": 50}  # per window; "ip": any usernames, "user": any addresses
_DECR_IF_EXISTS = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end return 0"


def _keys(username: str, ip: str) -> dict[str, str]:
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:40]
    pair = digest(username + "\x00" + ip)
    return {"pair": f"p:{pair}", "ip": f"i:{digest(ip)}", "user": f"u:{digest(username)}"}


class LoginThrottle:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def _redis_key(self, key: str) -> str:
        return f"{self.rt.config.redis.prefix}admin:login:{key}"

    def attempt(self, username: str, ip: str) -> bool:
        """Count one login attempt; False when it is over a limit (refuse it without checking anything)."""
        keys = _keys(username, ip)
        client = self.rt.live_redis()
        counts = self._incr_redis(client, keys) if client is not None else None
        if counts is None:
            counts = self._incr_db(keys)
        over = [kind for kind, n in counts.items() if n > LIMITS[kind]]
        if over:
            log.warning("console login throttled (%s)", ", ".join(over))
        return not over

    def succeeded(self, username: str, ip: str) -> None:
        """A correct password: the pair counter starts again and this attempt no longer counts."""
        keys = _keys(username, ip)
        client = self.rt.live_redis()
        if client is not None:
            try:
                client.delete(self._redis_key(keys["pair"]))
                for kind in ("ip", "user"):
                    client.eval(_DECR_IF_EXISTS, 1, self._redis_key(keys[kind]))
                return
            except redis_lib.RedisError as exc:
                self.rt.redis_failed("login throttle", exc)
        with self.rt.write() as session:
            session.execute(delete(Counter).where(col(Counter.key) == keys["pair"]))
            session.execute(update(Counter).where(col(Counter.key).in_([keys["ip"], keys["user"]]),
                                                  col(Counter.count) > 0)
                            .values(count=col(Counter.count) - 1))

    def _incr_redis(self, client: redis_lib.Redis, keys: dict[str, str]) -> dict[str, int] | None:
        try:
            pipe = client.pipeline(transaction=True)
            for key in keys.values():
                pipe.set(self._redis_key(key), 0, ex=WINDOW_SECONDS, nx=True)
                pipe.incr(self._redis_key(key))
            results = pipe.execute()
        except redis_lib.RedisError as exc:
            self.rt.redis_failed("login throttle", exc)
            return None
        return {kind: int(results[2 * i + 1]) for i, kind in enumerate(keys)}

    def _incr_db(self, keys: dict[str, str]) -> dict[str, int]:
        now = clock.wall()
        insert = pg_insert if self.rt.is_postgres else sqlite_insert
        expired = col(Counter.expires) <= now
        count, expires = col(Counter.count), col(Counter.expires)
        counts: dict[str, int] = {}
        with self.rt.write() as session:
            for kind, key in sorted(keys.items(), key=lambda kv: kv[1]):  # one lock order for every caller
                stmt = insert(Counter).values(key=key, count=1, expires=now + WINDOW_SECONDS)
                stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
                    "count": case((expired, 1), else_=count + 1),
                    "expires": case((expired, now + WINDOW_SECONDS), else_=expires)})
                counts[kind] = int(session.execute(stmt.returning(count)).scalar_one())
        self._sweep(now)
        return counts

    def _sweep(self, now: float) -> None:
        """Drop long-expired counters (rows another login holds are skipped, never waited for)."""
        with self.rt.session() as session:
            stale = (select(col(Counter.key)).where(col(Counter.expires) <= now - WINDOW_SECONDS).limit(200)
                     .with_for_update(skip_locked=True))
            session.execute(delete(Counter).where(col(Counter.key).in_(stale.scalar_subquery())))
