"""Named locks shared between processes: the scheduler leader, a token refresh, any "only one of us" task.

Every backend implements the `Lock` protocol: `acquire()` never waits longer than the backend was told
(default: not at all), `renew()` extends a held lock well before `ttl_seconds` pass and says whether it is
still ours, `release()` gives it up (a no-op when not held); `with lock:` raises `LockBusy` when it is taken.
A backend that cannot be reached counts as "not acquired" / "lost" and is logged, never raised: losing a
lock is always safe.

- `AdvisoryLock` (bot.locks.postgres): a PostgreSQL session advisory lock on a dedicated connection; the
  server drops it the moment that session ends (process killed, connection lost).
- `LeaseLock` (bot.locks.lease): a `Lease` row with an expiry in wall-clock seconds (`clock.wall()`, never
  the frozen business clock); SQLite, one machine. The holder string is the owner (re-entrant).
- `RedisLock` (bot.locks.redis_lock): redis-py's own `Lock` (SET NX PX with a token, Lua release/extend);
  for coordination that may fall back elsewhere when Redis is down (the access-token refresh).

`LeaderLock(runtime, name, holder, ttl_seconds)` is the database lock (advisory on PostgreSQL, else a lease):
leadership lives in the database, never in Redis, so a Redis partition (each side its own Redis, or none)
can never make two leaders.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from bot.locks.base import LockBase, LockBusy

if TYPE_CHECKING:
    from bot.runtime import Runtime


class Lock(Protocol):
    name: str
    holder: str
    backend: str

    def acquire(self) -> bool: ...

    def renew(self) -> bool: ...

    def release(self) -> None: ...

    def __enter__(self) -> Lock: ...

    def __exit__(self, *exc: object) -> None: ...


def default_holder() -> str:
    """host:pid:random, unique per lock owner (the random part tells restarts with a reused pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def database_lock(runtime: Runtime, name: str, holder: str | None = None, ttl_seconds: float = 30.0) -> LockBase:
    """The lock in the database: a PostgreSQL advisory lock, else (SQLite) a lease row."""
    if runtime.is_postgres:
        from bot.locks.postgres import AdvisoryLock

        return AdvisoryLock(runtime, name, holder or default_holder(), ttl_seconds)
    from bot.locks.lease import LeaseLock

    return LeaseLock(runtime, name, holder or default_holder(), ttl_seconds)


LeaderLock = database_lock  # the scheduler's name for it


def advisory_key(name: str) -> int:
    from bot.locks.postgres import advisory_key as key

    return key(name)


@contextlib.contextmanager
def try_lock(runtime: Runtime, name: str, ttl_seconds: float = 30.0,
             holder: str | None = None) -> Iterator[bool]:
    """`with try_lock(rt, "token-refresh", 60) as got:` yields whether we got it; released on exit."""
    lock = database_lock(runtime, name, holder, ttl_seconds)
    got = lock.acquire()
    try:
        yield got
    finally:
        if got:
            lock.release()


__all__ = ["LeaderLock", "Lock", "LockBase", "LockBusy", "advisory_key", "database_lock", "default_holder",
           "try_lock"]
