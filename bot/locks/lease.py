"""A `Lease` row written in a BEGIN IMMEDIATE transaction (SQLite; any database), with an expiry in
wall-clock seconds (`clock.wall()`, never the frozen business clock). The holder string is the owner: two
lock objects with the same holder are the same owner (acquire is re-entrant)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from bot import clock
from bot.locks.base import LockBase
from bot.models import Lease

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.runtime import Runtime

log = logging.getLogger(__name__)


class LeaseLock(LockBase):
    backend = "lease"

    def __init__(self, runtime: Runtime, name: str, holder: str, ttl_seconds: float = 30.0) -> None:
        super().__init__(name, holder, ttl_seconds)
        self.runtime = runtime

    def _write(self, action: Callable[[Session], bool], failure: str = "lease table unavailable") -> bool:
        """Run `action` in one write transaction under the guard; a database error is logged and is False
        (the lock is not held)."""
        with self._guard:
            try:
                with self.runtime.write() as session:
                    return action(session)
            except SQLAlchemyError as exc:
                log.warning("lock %s: %s: %s", self.name, failure, exc)
                return False

    def acquire(self) -> bool:
        now = clock.wall()

        def take(session: Session) -> bool:
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

        return self._write(take)

    def renew(self) -> bool:
        def extend(session: Session) -> bool:
            result = session.exec(update(Lease).where(col(Lease.name) == self.name, col(Lease.holder) == self.holder)
                                  .values(until=clock.wall() + self.ttl_seconds))
            return result.rowcount == 1

        return self._write(extend)

    def release(self) -> None:
        def drop(session: Session) -> bool:
            session.exec(delete(Lease).where(col(Lease.name) == self.name, col(Lease.holder) == self.holder))
            return True

        self._write(drop, "release failed (it expires by itself)")
