"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, a pinned clock.

PostgreSQL: each pytest session creates its own database next to DANGJIAN_TEST_DATABASE_URL's and
drops it at the end, so parallel runs never meet. Redis: db 15 with a per-session key prefix.
Under CI=true a missing service fails the test; elsewhere it skips.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from hypothesis import HealthCheck, settings
from sqlmodel import SQLModel

from bot import clock, config, db
from bot.runtime import Runtime, build

pytest_plugins = ["tests.fakewecom"]

PG_ADMIN_URL = os.environ.get("DANGJIAN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DANGJIAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SESSION_TAG = uuid.uuid4().hex[:8]
DEFAULT_NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=clock.tz())  # a Wednesday, a workday

# Property tests: no example database written into the repo (.hypothesis/), no per-example deadline on a
# noisy shared machine, and fixtures (a database, an app) shared by the examples of one test on purpose.
settings.register_profile("dangjian", database=None, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("dangjian")


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _swap_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"dj_test_{SESSION_TAG}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", exc)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _swap_db(PG_ADMIN_URL, name)
    db.upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"djtest:{SESSION_TAG}:{uuid.uuid4().hex[:6]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[dt.datetime]:
    """Every test starts at DEFAULT_NOW in Asia/Shanghai with the default calendar."""
    clock.configure("Asia/Shanghai", DEFAULT_NOW)
    clock.skip(None)
    yield DEFAULT_NOW
    clock.configure("Asia/Shanghai", None)
    clock.skip(None)  # wall() and monotonic() back to real time (clock.skip)


TEST_HASH_METHOD = "scrypt:1024:8:1"  # werkzeug's default is scrypt:32768:8:1, ~0.3 s a hash or a check


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Console passwords hash with scrypt at 1/32 of the production cost in tests: 269 hashes and checks
    took 42 of the console tests' 68 s. A check reads the cost from the stored hash, so login, wrong
    passwords and the unknown-user dummy all behave as in production. Session-wide, so that module-scoped
    templates (test_authz_console) get cheap hashes too; the `production_hash` fixture restores the real
    cost for the test that proves it (test_admin)."""
    from werkzeug.security import generate_password_hash

    from bot.admin import auth

    def cheap(password: str, method: str = TEST_HASH_METHOD, salt_length: int = 16) -> str:
        return generate_password_hash(password, method=method, salt_length=salt_length)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "generate_password_hash", cheap)
        auth._dummy_hash.cache_clear()
        yield
    auth._dummy_hash.cache_clear()


@pytest.fixture
def production_hash(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """werkzeug's own scrypt cost for this test (see cheap_password_hashes)."""
    from werkzeug.security import generate_password_hash

    from bot.admin import auth

    monkeypatch.setattr(auth, "generate_password_hash", generate_password_hash)
    auth._dummy_hash.cache_clear()
    yield
    auth._dummy_hash.cache_clear()


def make_config(data: dict[str, Any] | None = None, **sections: dict[str, Any]) -> config.Config:
    merged: dict[str, Any] = {k: dict(v) for k, v in (data or {}).items()}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return config.from_dict(merged, {})


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated once per session; every SQLite test gets a byte copy of it (a migration run
    costs 0.5-1 s, a copy under a millisecond). The migrations themselves are tested in test_db/test_enums."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    db.upgrade(f"sqlite:///{path}")
    for suffix in ("-wal", "-shm"):  # alembic's engine is disposed: the WAL is checkpointed into the file
        assert not path.with_name(path.name + suffix).exists(), "the template must be one self-contained file"
    return path


def fresh_sqlite(request: pytest.FixtureRequest, path: Path) -> str:
    """The URL of a freshly migrated, empty SQLite database at `path` (a copy of the session's template)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
    return f"sqlite:///{path}"


class _PgReset:
    """Empties the session's PostgreSQL database between tests over one kept connection: DELETE children
    before parents and restart every sequence, which is what `TRUNCATE ... RESTART IDENTITY CASCADE` did, in
    ~0.03 s instead of ~0.3 s (TRUNCATE replaces every table's files, 35 of them, on each call)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.order = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]

    def __call__(self) -> None:
        with self.conn.transaction():
            tables = {r[0] for r in self.conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")}
            sequences = [r[0] for r in self.conn.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname='public'")]
            statements = [f'DELETE FROM "{n}"' for n in self.order if n in tables]
            unknown = sorted(tables - set(self.order))  # not in the models (none today): the old way
            if unknown:
                statements.append("TRUNCATE " + ", ".join(f'"{n}"' for n in unknown) + " CASCADE")
            statements += [f'ALTER SEQUENCE "{n}" RESTART' for n in sequences]
            self.conn.execute(";".join(statements).encode())

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="session")
def _pg_reset(pg_url: str) -> Iterator[_PgReset]:
    import bot.models  # noqa: F401  # every table in SQLModel.metadata, for the delete order

    reset = _PgReset(pg_url)
    yield reset
    reset.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database URL: the same test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return fresh_sqlite(request, tmp_path / "test.db")
    url = request.getfixturevalue("pg_url")
    request.getfixturevalue("_pg_reset")()
    return url


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_sqlite(request, tmp_path / "test.db")


@pytest.fixture
def postgres_url(pg_url: str, _pg_reset: _PgReset) -> str:
    _pg_reset()
    return pg_url


def make_runtime(url: str, **sections: dict[str, Any]) -> Runtime:
    sections.setdefault("database", {})["url"] = url
    rt = build(make_config(**sections))
    clock.freeze(DEFAULT_NOW)
    return rt


@pytest.fixture
def rt(backend: str) -> Iterator[Runtime]:
    runtime = make_runtime(backend)
    yield runtime
    runtime.close()


@pytest.fixture
def app_rt(backend: str) -> Iterator[tuple[Any, Runtime]]:
    """(test client, runtime) of the app with WeCom callbacks configured and tests.helpers' roster."""
    from bot.web import build_app
    from tests.callbacks import WECOM
    from tests.helpers import add_roster

    runtime = make_runtime(backend, wecom=WECOM)
    add_roster(runtime)
    yield build_app(runtime=runtime).test_client(), runtime
    runtime.close()
