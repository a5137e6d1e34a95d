"""`dangjian report ...`: tables for secretaries as CSV (stdout or `-o FILE`) or XLSX (`-o FILE`).

Other areas add their own tables to this group:

    from bot.commands.report import report, report_command, table_options, write_table

    @report_command("study")
    @click.option("--date", ...)
    @table_options
    @click.pass_context
    def study(ctx, date, fmt, output):
        write_table(["userid", ...], rows, fmt, output, sheet="study")

CSV is UTF-8 without BOM; XLSX needs `-o` (format from `--format`, else from the file's suffix).
Bad arguments raise `UserError` → exit 2 with the message on stderr.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from sqlmodel import Session, col, select

from bot import clock, export
from bot.cli import LazyGroup, UserError, command, runtime
from bot.commands import REPORTS
from bot.models import Branch, LedgerEntry, Member
from bot.services.points import core as pts
from bot.services.points import ranking

FORMATS = ("csv", "xlsx")


@click.group("report", cls=LazyGroup, lazy=REPORTS)
def report() -> None:
    """Tables for secretaries: CSV to stdout or -o FILE, XLSX with -o FILE."""


def report_command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """`report.command` whose expected errors become exit 2 with a message, never a traceback."""
    return command(*args, **kwargs)


def table_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--format csv|xlsx` (as `fmt`) and `-o/--output FILE` (as `output`)."""
    func = click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                        help="Write to FILE (needed for XLSX).")(func)
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                        help="csv or xlsx (default: from the -o suffix, else csv).")(func)


def resolve_format(fmt: str | None, output: str | None) -> str:
    if fmt is None:
        fmt = "xlsx" if output and Path(output).suffix.lower() == ".xlsx" else "csv"
    if fmt == "xlsx" and not output:
        raise UserError("XLSX needs -o FILE")
    return fmt


def write_table(header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str | None = None,
                output: str | None = None, sheet: str = "report") -> None:
    """Write `header` and `rows` as CSV to stdout (UTF-8, no BOM) or to `output`, or as XLSX to `output`;
    cells are neutralised by bot.export (pass numbers and dates typed, not as strings)."""
    kind = resolve_format(fmt, output)
    data = export.xlsx_bytes(header, rows, sheet) if kind == "xlsx" else export.csv_bytes(header, rows)
    write_bytes(data, output)


def write_bytes(data: bytes, output: str | None) -> None:
    """`data` to `output`, or to stdout when there is none."""
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc


YEAR = click.IntRange(1949, 2200)
BRANCH = click.option("--branch", "branch_code", default=None, help="Only this branch (code).")


def branch_id_of(session: Session, code: str | None) -> int | None:
    """The id of the branch `--branch` names (None: every branch); an unknown code is a UserError."""
    if code is None:
        return None
    branch = session.exec(select(Branch).where(Branch.code == code.strip())).first()
    if branch is None:
        raise UserError(f"unknown branch {code!r}")
    return branch.id


def yearly_report(name: str, year_help: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A `report <name>` with `--year` (default: this year), `--branch` and the table options. The decorated
    function `build(session, config, year, branch_id) -> (header, rows)` makes the table (its docstring is
    the command's help); the sheet is named `<name> <year>`."""

    def wrap(build: Callable[..., tuple[Sequence[str], list[list[Any]]]]) -> click.Command:
        @functools.wraps(build, assigned=("__module__", "__name__", "__qualname__", "__doc__"), updated=())
        def run(ctx: click.Context, year: int | None, branch_code: str | None, fmt: str | None,
                output: str | None) -> None:
            resolve_format(fmt, output)
            rt = runtime(ctx)
            year = year or clock.today().year
            with rt.session() as session:
                header, table = build(session, rt.config, year, branch_id_of(session, branch_code))
            write_table(header, table, fmt, output, sheet=f"{name} {year}")

        options = click.option("--year", type=YEAR, default=None, help=year_help)(BRANCH(table_options(run)))
        return report_command(name)(click.pass_context(options))

    return wrap


@yearly_report("points", "Scheme year (default: this year).")
def points_report(session: Session, config: Any, year: int,
                  branch_id: int | None) -> tuple[list[str], list[list[Any]]]:
    """One row per member: userid,name,branch,<categories>,total,band,status,veto."""
    rows = ranking.standings(session, config, year, branch_id)
    cats = pts.categories(config, {c for r in rows for c in r.by_category})
    table = [[r.member.userid, r.member.name, r.branch.code if r.branch else "",
              *[r.by_category.get(c, 0) for c in cats], r.total, r.band, r.status,
              "yes" if r.vetoed else "no"] for r in rows]
    return ["userid", "name", "branch", *cats, "total", "band", "status", "veto"], table


@report_command("ledger")
@click.option("--user", "userid", required=True, help="The member's userid.")
@click.option("--year", type=YEAR, default=None, help="Only entries counting in this year.")
@table_options
@click.pass_context
def ledger_report(ctx: click.Context, userid: str, year: int | None, fmt: str | None,
                  output: str | None) -> None:
    """Every ledger entry of a member: at,rule,category,points,reason,actor."""
    resolve_format(fmt, output)
    rt = runtime(ctx)
    with rt.session() as session:
        member = session.exec(select(Member).where(Member.userid == userid.strip().lower())).first()
        if member is None:
            raise UserError(f"unknown member {userid!r}")
        stmt = select(LedgerEntry).where(LedgerEntry.member_id == member.id)
        if year is not None:
            stmt = stmt.where(LedgerEntry.year == year)
        entries = session.exec(stmt.order_by(col(LedgerEntry.at), col(LedgerEntry.id))).all()
        table = [[clock.local(e.at).isoformat(timespec="seconds") if e.at else "", e.rule, e.category, e.points,
                  e.reason, e.actor] for e in entries]
    write_table(["at", "rule", "category", "points", "reason", "actor"], table, fmt, output,
                sheet=f"ledger {member.userid}")
