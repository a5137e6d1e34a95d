"""PostgreSQL session advisory lock (`pg_try_advisory_lock`) on a dedicated connection kept open while the
lock is held. The server drops it the moment that session ends, so the ttl is not used; `renew()` checks
that the session is alive and still holds it. Each lock object has its own session."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import psycopg

from bot.locks.base import LockBase

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock` from the lock name."""
    digest = hashlib.blake2b(f"dangjian-lock:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock(LockBase):
    backend = "postgresql"

    def __init__(self, runtime: Runtime, name: str, holder: str, ttl_seconds: float = 30.0) -> None:
        super().__init__(name, holder, ttl_seconds)
        self.runtime = runtime
        self._pg: psycopg.Connection | None = None

    def acquire(self) -> bool:
        with self._guard:
            if self._pg is not None and self._holds():
                return True
            try:
                conn = psycopg.connect(self._conninfo(), autocommit=True, connect_timeout=5,
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

    def renew(self) -> bool:
        with self._guard:
            return self._holds()

    def release(self) -> None:
        with self._guard:
            conn = self._pg
            if conn is None:
                return
            try:
                conn.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(self.name),))
            except psycopg.Error as exc:
                log.warning("lock %s: unlock failed (closing the session releases it): %s", self.name, exc)
            self._close()

    def _conninfo(self) -> str:
        url = self.runtime.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _holds(self) -> bool:
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
            self._close()
            return False
        if not row or not row[0]:
            self._close()
            return False
        return True

    def _close(self) -> None:
        conn, self._pg = self._pg, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error as exc:
                log.warning("lock %s: closing the session failed: %s", self.name, exc)
