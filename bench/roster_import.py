"""Time a 30,000-member roster import (create, then update) on SQLite, and PostgreSQL if given.

    .venv/bin/python bench/roster_import.py [ROWS] [postgresql://...]

The PostgreSQL database must be empty and disposable: the script migrates it and imports into it.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

from bot import db
from bot.services.roster import import_roster, read_table

TYPES = ("regular", "retired", "mobile", "probationary", "frail")


def write_roster(path: Path, rows: int, renamed: bool = False) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["userid", "name", "branch", "roles", "member_type", "joined_on", "full_member_on",
                      "phone", "active"])
        for i in range(rows):
            name = f"党员{i}" + ("改" if renamed and i % 3 == 0 else "")
            out.writerow([f"U{i:06d}", name, f"b{i % 500}", "member", TYPES[i % 5],
                          f"{1980 + i % 40}-0{1 + i % 9}-1{i % 9}", "", f"138{i:08d}", "true"])


def time_xlsx(folder: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    with (folder / "roster-create.csv").open(encoding="utf-8") as fh:
        for record in csv.reader(fh):
            sheet.append(record)
    path = folder / "roster.xlsx"
    book.save(path)
    started = time.perf_counter()
    table = read_table(path)
    print(f"xlsx read rows={len(table)} {time.perf_counter() - started:.2f}s")


def run(url: str, rows: int, folder: Path) -> None:
    db.upgrade(url)
    engine = db.make_engine(url)
    for label, renamed in (("create", False), ("update", True)):
        path = folder / f"roster-{label}.csv"
        write_roster(path, rows, renamed)
        started = time.perf_counter()
        table = read_table(path)
        read_s = time.perf_counter() - started
        with db.session_scope(engine) as session:
            result = import_roster(session, table, "bench")
        total = time.perf_counter() - started
        print(f"{engine.dialect.name:10} {label:6} rows={rows} read={read_s:.2f}s total={total:.2f}s "
              f"created={result.created} updated={result.updated} errors={len(result.errors)}")
    engine.dispose()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run(f"sqlite:///{folder / 'bench.db'}", rows, folder)
        time_xlsx(folder, rows)
        if len(sys.argv) > 2:
            run(sys.argv[2], rows, folder)


if __name__ == "__main__":
    main()
