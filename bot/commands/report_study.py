"""`dangjian report study --date D`: who checked in on a study day.

CSV: one row per active member. XLSX: that sheet, a `not_checked_in` sheet and a `day` summary sheet.
"""

from __future__ import annotations

import datetime as dt
import io

import click
from sqlmodel import col, select

from bot import clock, export
from bot.cli import UserError, runtime
from bot.commands.report import report_command, resolve_format, table_options, write_bytes, write_table
from bot.models import Branch, CheckIn, Member, StudyDay, StudyItem

HEADER = ["userid", "name", "branch", "checked_in", "at", "via", "makeup"]


def study_rows(session, day: dt.date, branch: str | None) -> list[list[str]]:
    stmt = select(Member, Branch).outerjoin(Branch, col(Branch.id) == Member.branch_id).where(Member.active)
    if branch:
        if session.exec(select(Branch.id).where(Branch.code == branch.strip())).first() is None:
            raise UserError(f"unknown branch {branch!r}")
        stmt = stmt.where(Branch.code == branch.strip())
    checkins = {c.member_id: c for c in session.exec(select(CheckIn).where(CheckIn.date == day))}
    rows = []
    for member, br in session.exec(stmt.order_by(Branch.code, Member.userid)):
        c = checkins.get(member.id)
        rows.append([member.userid, member.name, br.code if br else "", "yes" if c else "no",
                     clock.local(c.at).isoformat(timespec="minutes") if c and c.at else "", c.via if c else "",
                     ("yes" if c.makeup else "no") if c else ""])
    return rows


@report_command("study")
@click.option("--date", "date_text", default=None, help="Study day YYYY-MM-DD (default: today).")
@click.option("--branch", default=None, help="Only this branch (code).")
@table_options
@click.pass_context
def study_report(ctx: click.Context, date_text: str | None, branch: str | None, fmt: str | None,
                 output: str | None) -> None:
    """One row per active member: userid,name,branch,checked_in,at,via,makeup (XLSX: + not_checked_in)."""
    kind = resolve_format(fmt, output)
    try:
        day = dt.date.fromisoformat(date_text) if date_text else None
    except ValueError:
        raise UserError(f"bad --date {date_text!r}: expected YYYY-MM-DD") from None
    rt = runtime(ctx)
    day = day or clock.today()
    with rt.session() as session:
        rows = study_rows(session, day, branch)
        chosen = session.exec(select(StudyDay).where(StudyDay.date == day)).first()
        item = session.get(StudyItem, chosen.item_id) if chosen else None
    if not clock.is_workday(day):  # no study that day: the header and no rows, not every member as missed
        click.echo(f"note: {day.isoformat()} is not a study day (weekend or holiday); no rows", err=True)
        rows = []
    if kind == "csv":
        write_table(HEADER, rows, "csv", output)
        return
    book = export.new_book()
    sheet = book.active
    sheet.title = "study"
    export.fill_sheet(sheet, HEADER, rows)
    export.fill_sheet(book.create_sheet("not_checked_in"), ["userid", "name", "branch"],
                      [r[:3] for r in rows if r[3] == "no"])
    done = sum(1 for r in rows if r[3] == "yes")
    export.fill_sheet(book.create_sheet("day"), ["date", "item", "title", "members", "checked_in", "not_checked_in"],
                      [[day.isoformat(), item.slug if item else "", item.title if item else "", len(rows), done,
                        len(rows) - done]])
    buffer = io.BytesIO()
    book.save(buffer)
    write_bytes(buffer.getvalue(), output)
