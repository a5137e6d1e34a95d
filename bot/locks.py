"""Named locks shared between processes: the scheduler leader, any "only one of us" task.

`LeaderLock(runtime, name, holder, ttl_seconds)` lives in the database, never in Redis: Redis is optional
and a Redis partition (each side sees a different Redis, or none) must never make two leaders.

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a dedicated connection kept open while
  the lock is held. The server drops it the moment that session ends (process killed, connection lost),
  so the ttl is not used; `renew()` checks that the session is alive and still holds it.
- Otherwise (SQLite, one machine): a `Lease` row written in a BEGIN IMMEDIATE transaction, with an
  expiry in wall-clock seconds (`clock.wall()`, never the frozen business clock).

On SQLite the holder string is the owner: two lock objects with the same holder are the same owner
(acquire is re-entrant). On PostgreSQL each object has its own session. A database that cannot be
reached counts as "not acquired" / "lost" and is logged, never raised: losing a lock is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator

import psycopg
from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from bot import clock
from bot.models import Lease
from bot.runtime import Runtime

log = logging.getLogger(__name__)

class LockBusy(Exception):
    """Another holder has the lock (raised by `with LeaderLock(...)`)."""


def default_holder() -> str:
    """host:pid:random, unique per lock owner (the random part tells restarts with a reused pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock` from the lock name."""
    digest = hashlib.blake2b(f"dangjian-lock:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class LeaderLock:
    """A non-blocking named lock: `acquire()`, then `renew()` well before `ttl_seconds` pass, `release()`."""

    def __init__(self, runtime: Runtime, name: str, holder: str | None = None,
                 ttl_seconds: float = 30.0) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.runtime = runtime
        self.name = name
        self.holder = holder or default_holder()
        self.ttl_seconds = ttl_seconds
        self._guard = threading.Lock()
        self._pg: psycopg.Connection | None = None
        self.backend = "postgresql" if runtime.is_postgres else "lease"

    def __repr__(self) -> str:
        return f"LeaderLock({self.name!r}, holder={self.holder!r}, backend={self.backend})"

    # -- public API ---------------------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the lock if it is free, expired, or already ours; never waits."""
        with self._guard:
            if self.backend == "postgresql":
                return self._pg_acquire()
            return self._lease_acquire()

    def renew(self) -> bool:
        """Extend the lock; False when it is no longer ours (expired and taken, or the backend is gone)."""
        with self._guard:
            if self.backend == "postgresql":
                return self._pg_holds()
            return self._lease_renew()

    def release(self) -> None:
        """Give the lock up if we hold it; a no-op otherwise."""
        with self._guard:
            if self.backend == "postgresql":
                self._pg_release()
            else:
                self._lease_release()

    def __enter__(self) -> LeaderLock:
        if not self.acquire():
            raise LockBusy(self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- PostgreSQL ---------------------------------------------------------------------------------

    def _pg_conninfo(self) -> str:
        url = self.runtime.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _pg_acquire(self) -> bool:
        if self._pg is not None:
            if self._pg_holds():
                return True
        try:
            conn = psycopg.connect(self._pg_conninfo(), autocommit=True, connect_timeout=5,
                                   keepalives=1, keepalives_idle=10, keepalives_interval=5,
                                   keepalives_count=3, application_name=f"dangjian-lock:{self.name}")
        except psycopg.Error as exc:
            log.warning("lock %s: PostgreSQL unavailable: %s", self.name, exc)
            return False
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (advisory_key(self.name),)).fetchone()
        except psycopg.Error as exc:
            log.warning("lock %s: advisory lock failed: %s", self.name, exc)
            conn.close()
            return False
        if row and row[0]:
            self._pg = conn
            return True
        conn.close()
        return False

    def _pg_holds(self) -> bool:
        conn = self._pg
        if conn is None:
            return False
        key = advisory_key(self.name)
        try:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND granted AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
            ).fetchone()
        except psycopg.Error as exc:
            log.warning("lock %s: lost the PostgreSQL session: %s", self.name, exc)
            self._pg_close()
            return False
        if not row or not row[0]:
            self._pg_close()
            return False
        return True

    def _pg_release(self) -> None:
        conn = self._pg
        if conn is None:
            return
        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(self.name),))
        except psycopg.Error as exc:
            log.warning("lock %s: unlock failed (closing the session releases it): %s", self.name, exc)
        self._pg_close()

    def _pg_close(self) -> None:
        conn, self._pg = self._pg, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error as exc:
                log.warning("lock %s: closing the session failed: %s", self.name, exc)

    # -- Lease table (SQLite) -----------------------------------------------------------------------

    def _lease_acquire(self) -> bool:
        now = clock.wall()
        try:
            with self.runtime.write() as session:
                lease = session.get(Lease, self.name)
                if lease is None:
                    session.add(Lease(name=self.name, holder=self.holder, until=now + self.ttl_seconds))
                    return True
                if lease.holder != self.holder and lease.until > now:
                    return False
                lease.holder = self.holder
                lease.until = now + self.ttl_seconds
                session.add(lease)
                return True
        except SQLAlchemyError as exc:
            log.warning("lock %s: lease table unavailable: %s", self.name, exc)
            return False

    def _lease_renew(self) -> bool:
        try:
            with self.runtime.write() as session:
                result = session.exec(
                    update(Lease).where(col(Lease.name) == self.name, col(Lease.holder) == self.holder)
                    .values(until=clock.wall() + self.ttl_seconds))
                return result.rowcount == 1
        except SQLAlchemyError as exc:
            log.warning("lock %s: lease table unavailable: %s", self.name, exc)
            return False

    def _lease_release(self) -> None:
        try:
            with self.runtime.write() as session:
                session.exec(delete(Lease).where(col(Lease.name) == self.name, col(Lease.holder) == self.holder))
        except SQLAlchemyError as exc:
            log.warning("lock %s: release failed (it expires by itself): %s", self.name, exc)


@contextlib.contextmanager
def try_lock(runtime: Runtime, name: str, ttl_seconds: float = 30.0,
             holder: str | None = None) -> Iterator[bool]:
    """`with try_lock(rt, "token-refresh", 60) as got:` yields whether we got it; released on exit."""
    lock = LeaderLock(runtime, name, holder, ttl_seconds)
    got = lock.acquire()
    try:
        yield got
    finally:
        if got:
            lock.release()
