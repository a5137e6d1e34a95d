"""A `Lease` row written in a BEGIN IMMEDIATE transaction (SQLite; any database), with an expiry in
wall-clock seconds (`clock.wall()`, never the frozen business clock). The holder string is the owner: two
lock objects with the same holder are the same owner (acquire is re-entrant)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from bot import clock
from bot.locks.base import LockBase
from bot.models import Lease

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


class LeaseLock(LockBase):
    backend = "lease"

    def __init__(self, runtime: Runtime, name: str, holder: str, ttl_seconds: float = 30.0) -> None:
        super().__init__(name, holder, ttl_seconds)
        self.runtime = runtime

    def acquire(self) -> bool:
        now = clock.wall()
        with self._guard:
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

    def renew(self) -> bool:
        with self._guard:
            try:
                with self.runtime.write() as session:
                    result = session.exec(
                        update(Lease).where(col(Lease.name) == self.name, col(Lease.holder) == self.holder)
                        .values(until=clock.wall() + self.ttl_seconds))
                    return result.rowcount == 1
            except SQLAlchemyError as exc:
                log.warning("lock %s: lease table unavailable: %s", self.name, exc)
                return False

    def release(self) -> None:
        with self._guard:
            try:
                with self.runtime.write() as session:
                    session.exec(delete(Lease).where(col(Lease.name) == self.name, col(Lease.holder) == self.holder))
            except SQLAlchemyError as exc:
                log.warning("lock %s: release failed (it expires by itself): %s", self.name, exc)
