"""Points at scale: M members x a year of ledger entries (~8 M rows by default) on PostgreSQL, written with
COPY, then the points table of one branch (what 积分排名 and the console compute: points.ranking.standings) and the
annual report (`dangjian report points --format csv`, the whole organisation).

    python bench/ledger.py [ROWS] [MEMBERS]      (default 8,000,000 and 30,000; BENCH_LEDGER_ROWS,
                                                  BENCH_LEDGER_MEMBERS)

Targets: < 200 ms per branch page, < 10 s for the whole report (100 branches of 300 members).
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import KEYS, add_members, bot_env, env_int, machine, median, pg_database, python, target, write_config

YEAR = 2026
RULES = [("study_checkin", "study", 1), ("study_answer", "study", 1), ("theme_day_attend", "attendance", 2),
         ("theme_day_late", "attendance", -1), ("commitment_fulfilled", "commitment", 2),
         ("problem_reported", "participation", 1), ("manual", "adjustment", 1)]


def copy_ledger(url: str, rows: int, members: int) -> None:
    """Rows spread evenly over members and the year, streamed in COPY text chunks."""
    import psycopg

    start = dt.date(YEAR, 1, 1)
    days = [(start + dt.timedelta(days=d)).isoformat() for d in range(365)]
    with psycopg.connect(url) as conn, conn.cursor() as cur, cur.copy(
            "COPY ledger_entry (member_id, rule, category, points, reason, source, actor, at, period, year) "
            "FROM STDIN") as copy:
        buf = io.StringIO()
        for i in range(rows):
            rule, category, points = RULES[i % len(RULES)]
            day = days[(i // members) % 365]
            buf.write(f"{i % members + 1}\t{rule}\t{category}\t{points}\t\tbench:{i}\tsystem\t{day} 09:00:00\t"
                      f"{day}\t{YEAR}\n")
            if i % 100_000 == 99_999:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ledger_entry")


def branch_page(url: str, branch_code: str, runs: int = 5) -> tuple[float, int]:
    from sqlmodel import select

    from bot import config, runtime
    from bot.models import Branch
    from bot.services.points import ranking

    rt = runtime.build(config.from_dict({"database": {"url": url}}))
    times, count = [], 0
    for _ in range(runs):
        with rt.session() as session:
            started = time.perf_counter()
            branch = session.exec(select(Branch).where(Branch.code == branch_code)).one()
            count = len(ranking.standings(session, rt.config, YEAR, branch.id))
            times.append(time.perf_counter() - started)
    rt.close()
    return median(times), count


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else env_int("BENCH_LEDGER_ROWS", 8_000_000)
    members = int(sys.argv[2]) if len(sys.argv) > 2 else env_int("BENCH_LEDGER_MEMBERS", 30_000)
    machine(f"points: {members:,} members, {rows:,} ledger rows")
    with tempfile.TemporaryDirectory() as tmp, pg_database("ledger") as url:
        started = time.perf_counter()
        add_members(url, members, branches=100)
        copy_ledger(url, rows, members)
        print(f"setup: COPY {rows:,} ledger rows + VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
        page, count = branch_page(url, "b7")
        print(f"branch page (ranking.standings, one branch of {count} members): median of 5 {page * 1000:.0f} ms")
        config = write_config(Path(tmp) / "ledger.toml", {"app": KEYS, "database": {"url": url}})
        out = Path(tmp) / "points.csv"
        started = time.perf_counter()
        subprocess.run([python(), "-m", "bot", "--config", str(config), "report", "points", "--year", str(YEAR),
                        "--format", "csv", "--output", str(out)], env=bot_env(), check=True)
        report = time.perf_counter() - started
        lines = out.read_text(encoding="utf-8").count("\n") - 1
        print(f"annual report (dangjian report points, CSV, {lines:,} rows, process start included): {report:.1f} s")
        note = "" if rows >= 8_000_000 else f" (measured with {rows:,} rows, not the target 8,000,000)"
        target(f"branch page < 200 ms: {page * 1000:.0f} ms{note}", page < 0.2 if not note else None)
        target(f"whole report < 10 s: {report:.1f} s{note}", report < 10 if not note else None)


if __name__ == "__main__":
    main()
