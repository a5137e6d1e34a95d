"""Time and measure a 200,000-member roster import (create, then update) on SQLite, and PostgreSQL if given.

    .venv/bin/python bench/roster_import.py [ROWS] [postgresql://...]     (ROWS default 200,000; BENCH_ROSTER_ROWS)

The import streams the file (csv.reader over the open file, openpyxl read-only for XLSX) and writes in
chunks inside one transaction, so memory stays flat: the create run is traced with tracemalloc (Python
allocations; tracing makes it about 3x slower, so its time is not comparable), the update run is timed
untraced, and the process's peak RSS (ru_maxrss) is printed at the end. Target: peak RSS < 200 MB for
200,000 rows (the import used to hold every row several times over: about 950 MB).
The PostgreSQL database must be empty and disposable: the script migrates it and imports into it.

Measured on SQLite, 200,000 rows, a shared 2-core machine (2026-11-29):
    create (untraced) 52 s; create traced: tracemalloc peak 5.8 MB; update 44 s;
    XLSX streamed 200,000 rows; peak RSS (ru_maxrss) 122 MB for the whole script, XLSX writing included
    (before streaming: about 950 MB).
"""

from __future__ import annotations

import csv
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from _common import env_int, machine, target

from bot import db
from bot.services.roster.core import import_roster, open_table

TYPES = ("regular", "retired", "mobile", "probationary", "frail")
MB = 1024 * 1024


def write_roster(path: Path, rows: int, renamed: bool = False) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["userid", "name", "branch", "roles", "member_type", "joined_on", "full_member_on",
                      "phone", "active"])
        for i in range(rows):
            name = f"党员{i}" + ("改" if renamed and i % 3 == 0 else "")
            out.writerow([f"U{i:06d}", name, f"b{i % 500}", "member", TYPES[i % 5],
                          f"{1980 + i % 40}-0{1 + i % 9}-1{i % 9}", "", f"138{i:08d}", "true"])


def time_xlsx(folder: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    with (folder / "roster-create.csv").open(encoding="utf-8") as fh:
        for record in csv.reader(fh):
            sheet.append(record)
    path = folder / "roster.xlsx"
    book.save(path)
    started = time.perf_counter()
    count = sum(1 for _ in open_table(path))
    print(f"xlsx stream rows={count} {time.perf_counter() - started:.2f}s")


def run(url: str, rows: int, folder: Path) -> float:
    db.upgrade(url)
    engine = db.make_engine(url)
    untraced = 0.0
    for label, renamed, traced in (("create", False, True), ("update", True, False)):
        path = folder / f"roster-{label}.csv"
        write_roster(path, rows, renamed)
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        with db.session_scope(engine) as session:
            result = import_roster(session, open_table(path), "bench")
        total = time.perf_counter() - started
        if not traced:
            untraced = total
        peak = ""
        if traced:
            peak = f" tracemalloc peak={tracemalloc.get_traced_memory()[1] / MB:.1f} MB (traced run)"
            tracemalloc.stop()
        print(f"{engine.dialect.name:10} {label:6} rows={rows} {total:.2f}s created={result.created} "
              f"updated={result.updated} errors={len(result.errors)}{peak}")
    engine.dispose()
    return untraced


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else env_int("BENCH_ROSTER_ROWS", 200_000)
    machine(f"roster import, {rows:,} rows")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seconds = run(f"sqlite:///{folder / 'bench.db'}", rows, folder)
        if len(sys.argv) > 2:
            run(sys.argv[2], rows, folder)
        time_xlsx(folder)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"peak RSS (ru_maxrss) {maxrss:.0f} MB")
    note = "" if rows >= 200_000 else f" (measured with {rows:,} rows, not the target 200,000)"
    target(f"200,000 rows < 60 s (SQLite update run, untraced): {seconds:.1f} s{note}",
           seconds < 60 if not note else None)
    target(f"< 200 MB peak RSS: {maxrss:.0f} MB{note}", maxrss < 200 if not note else None)


if __name__ == "__main__":
    main()
