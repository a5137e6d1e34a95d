"""Engine and session factory (SQLite WAL + busy_timeout, or PostgreSQL) and Alembic migrations."""

from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Table, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from bot import clock

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(str(resources.files("bot").joinpath("migrations")))  # package data
PG_CONNECT_TIMEOUT = 3  # seconds: a callback must still answer (from the spool) when the server is gone
LOCK_RETRY_SECONDS = 20.0  # SQLite: how long a write retries "database is locked" before giving up

log = logging.getLogger(__name__)
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// use psycopg 3 (the driver we install)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _wal(cur: sqlite3.Cursor) -> None:
    """PRAGMA journal_mode=WAL, retried while SQLite answers "database is locked": while another connection
    opens the WAL (recovery, the -shm set-up) that answer comes at once, without the busy handler, so threads
    or processes connecting together could lose their first connection (seen in a test, 1 run in ~14)."""
    deadline = clock.monotonic() + LOCK_RETRY_SECONDS
    delay = 0.01
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or clock.monotonic() >= deadline:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.5)


def make_engine(url: str, pool_size: int = 5) -> Engine:
    from bot import logsafe

    logsafe.install()  # SQL logging never shows rows or parameters (personal data)
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            _wal(cur)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        # Let SQLAlchemy emit BEGIN itself so that `begin_immediate` can take the write lock up front.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            mode = conn.info.pop("sqlite_begin", "BEGIN")
            conn.exec_driver_sql(mode)

        return engine
    # prepare_threshold=None: psycopg's automatic server-side preparation turned long IN (...) queries from
    # 0.1 s into 7 s after a few runs (generic plans); it also keeps PgBouncer in transaction mode working.
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True, hide_parameters=True,
                         connect_args={"prepare_threshold": None, "connect_timeout": PG_CONNECT_TIMEOUT})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextlib.contextmanager
def _committed(session: Session) -> Iterator[Session]:
    with session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success, rolled back on error."""
    with _committed(Session(engine, expire_on_commit=False)) as session:
        yield session


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Session]:
    """A transaction that holds the write lock from its first statement (BEGIN IMMEDIATE on SQLite),
    so that two processes never read the same rows as free; PostgreSQL uses row locks instead."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            conn.info["sqlite_begin"] = "BEGIN IMMEDIATE"
        with _committed(Session(bind=conn, expire_on_commit=False)) as session:
            yield session


def is_locked(exc: BaseException) -> bool:
    """SQLite's SQLITE_BUSY / SQLITE_LOCKED: another connection holds the write lock (retry, never a 500)."""
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached (refused, cut, timed out, or locked past every retry)."""
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError)


def retry_locked(fn: Callable[[], T], seconds: float = LOCK_RETRY_SECONDS) -> T:
    """Run `fn` (a whole transaction) again while SQLite answers "database is locked"; the busy timeout
    covers waiting for a lock, this covers the cases it does not (a read transaction upgraded to a write
    after another connection committed). Other errors, and a lock lasting past `seconds`, propagate."""
    deadline = clock.monotonic() + seconds
    delay = 0.01
    while True:
        try:
            return fn()
        except sa_exc.OperationalError as exc:
            if not is_locked(exc) or clock.monotonic() >= deadline:
                raise
            log.info("database is locked; retrying the transaction in %.2f s", delay)
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.5)


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig  # alembic only where the schema is migrated

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Create or migrate the schema to the newest revision (idempotent)."""
    u = make_url(normalise_url(url))
    if u.drivername.startswith("sqlite") and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class, for dialect INSERTs (SQLModel's types omit `__table__`)."""
    table = model.__table__  # type: ignore[attr-defined]  # set by SQLAlchemy's declarative mapping
    assert isinstance(table, Table), f"{model.__name__} is not a table model"
    return table


def dialect_insert(session: Session, table: Table) -> Any:
    """An INSERT for the session's database, PostgreSQL's or SQLite's: both have on_conflict_do_nothing/update."""
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
