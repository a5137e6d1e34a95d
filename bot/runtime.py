"""The process-wide resources built from a Config: clock settings, database engine, optional Redis."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import clock, db
from bot.config import Config

if TYPE_CHECKING:
    import redis as redis_lib

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 30.0  # after a Redis error, callers use the database for this long before trying again


@dataclass
class Runtime:
    config: Config
    engine: Engine
    redis: redis_lib.Redis | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # lazily built services (router, senders)
    _redis_down_until: float = field(default=0.0, repr=False)  # monotonic

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with db.session_scope(self.engine) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        with db.write_transaction(self.engine) as session:
            yield session

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def live_redis(self) -> redis_lib.Redis | None:
        """The Redis client for an optional use (a cache, a rate window, a dedup hint), or None when Redis
        is not configured or failed within the last REDIS_RETRY_SECONDS: the caller then uses the
        database or its in-process fallback. Nothing that must be correct depends on Redis."""
        if self.redis is None or clock.monotonic() < self._redis_down_until:
            return None
        return self.redis

    def redis_failed(self, what: str, exc: Exception) -> None:
        """Record a Redis error from `what`: logged once per outage, then Redis is skipped for a while."""
        if clock.monotonic() >= self._redis_down_until:
            log.warning("Redis unavailable (%s): %s; using the database for %.0f s", what, exc, REDIS_RETRY_SECONDS)
        self._redis_down_until = clock.monotonic() + REDIS_RETRY_SECONDS

    def redis_status(self) -> str:
        if self.redis is None:
            return "disabled"
        import redis as redis_lib

        try:
            self.redis.ping()
        except redis_lib.RedisError:
            return "down"
        return "ok"

    def close(self) -> None:
        """Release what this runtime opened: HTTP sessions of the senders, the inbound pool, the pools."""
        for sender in self.extras.get("senders", {}).values():
            closer = getattr(sender, "close", None)
            if closer is not None:
                closer()
        pool = self.extras.get("inbound_pool")
        if pool is not None:
            pool.shutdown(wait=False)
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


def build(config: Config, pool_size: int = 5) -> Runtime:
    clock.configure_from(config)
    engine = db.make_engine(config.database.url, pool_size=pool_size)
    client = None
    if config.redis.url:
        import redis as redis_lib  # only where Redis is configured (start-up time of one-shot commands)

        client = redis_lib.Redis.from_url(
            config.redis.url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30
        )
    return Runtime(config=config, engine=engine, redis=client)
