"""What the benchmark scripts share: the machine line, a disposable PostgreSQL database, bulk members by
COPY, config files and processes of the project.

Every script prints `machine: N cores, load ...` first (this machine is shared: figures are comparable
within one run, ratios across runs) and `target:` lines next to its figures. Nothing here asserts.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
KEYS = {"secret_key": "bench-secret-key-" + "x" * 20, "seal_key": "bench-seal-key-" + "y" * 20}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def machine(title: str) -> None:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"== {title}  ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    print(f"machine: {os.cpu_count()} cores, load average {load} (shared machine: compare ratios, not absolutes)")


def target(text: str, met: bool | None) -> None:
    verdict = "" if met is None else ("  [met]" if met else "  [MISSED]")
    print(f"target: {text}{verdict}")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@contextlib.contextmanager
def pg_database(tag: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one benchmark, migrated, dropped afterwards."""
    from bot import db

    name = f"bench_{tag}_{os.getpid()}_{secrets.token_hex(3)}"
    _admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        db.upgrade(url)
        yield url
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_rows(url: str, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> None:
    """COPY rows into a PostgreSQL table (much faster than INSERT for millions of rows)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def add_members(url: str, count: int, branches: int = 100, prefix: str = "m") -> list[str]:
    """`count` active members (userids prefix000000...) in `branches` branches b0..bN; returns the userids."""
    import datetime as dt

    userids = [f"{prefix}{i:06d}" for i in range(count)]
    if url.startswith("sqlite"):
        from sqlalchemy import insert

        from bot import db
        from bot.models import Branch, Member

        engine = db.make_engine(url)
        with db.session_scope(engine) as session:
            session.execute(insert(Branch), [{"id": i + 1, "code": f"b{i}", "name": f"第{i}党支部"}
                                             for i in range(branches)])
            session.execute(insert(Member), [{"userid": u, "name": f"党员{i}", "branch_id": i % branches + 1}
                                             for i, u in enumerate(userids)])
        engine.dispose()
        return userids
    copy_rows(url, "branch", ["id", "code", "name", "level", "push_enabled"],
              iter([(i + 1, f"b{i}", f"第{i}党支部", "branch", True) for i in range(branches)]))
    joined = dt.date(2000, 7, 1)
    copy_rows(url, "member", ["id", "userid", "name", "branch_id", "roles", "member_type", "active",
                              "do_not_disturb", "birthday_optout", "joined_on", "full_member_on"],
              ((i + 1, u, f"党员{i}", i % branches + 1, "member", "regular", True, False, False, joined, joined)
               for i, u in enumerate(userids)))
    import psycopg

    with psycopg.connect(url) as conn:  # COPY with explicit ids: move the sequences past them
        for table in ("branch", "member"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("ANALYZE")
    return userids


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    from tests.serve_helpers import write_config as write

    return write(path, sections)


def bot_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def start(args: Sequence[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A process in its own session (so stop() ends its children too), output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(list(args), cwd=ROOT, env=env or bot_env(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=5).status_code < 600:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def python() -> str:
    return sys.executable


def quiet() -> contextlib.AbstractContextManager[Any]:
    return contextlib.redirect_stdout(io.StringIO())
