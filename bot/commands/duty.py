"""`dangjian import-duty FILE` (duty roster `date,userid`, all or nothing) and `report attendance --event N`."""

from __future__ import annotations

import click
from sqlmodel import select

from bot import clock
from bot.cli import UserError, command, runtime
from bot.commands.report import report_command, resolve_format, table_options, write_table
from bot.commands.roster import run_import
from bot.models import Attendance, Branch, Member, ThemeDay
from bot.services import approvals, duty
from bot.services.roster import core as roster


@command("import-duty")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def import_duty(ctx: click.Context, file: str) -> None:
    """Import the duty roster (date,userid) from CSV/XLSX; any bad row: nothing applied, exit 2."""
    run_import(ctx, lambda: roster.read_table(file), duty.import_rows)


HEADER = ["userid", "name", "branch", "rsvp", "signed_at", "late", "result"]


@report_command("attendance")
@click.option("--event", "event_text", required=True, help="The theme day's number (N or #N).")
@table_options
@click.pass_context
def attendance_report(ctx: click.Context, event_text: str, fmt: str | None, output: str | None) -> None:
    """One row per member of the event's branch: userid,name,branch,rsvp,signed_at,late,result."""
    resolve_format(fmt, output)
    number = approvals.parse_number(event_text)
    if number is None:
        raise UserError(f"bad --event {event_text!r}: expected N or #N")
    rt = runtime(ctx)
    with rt.session() as session:
        event = session.exec(select(ThemeDay).where(ThemeDay.number == number)).first()
        if event is None:
            raise UserError(f"unknown theme day #{number}")
        branch = session.get(Branch, event.branch_id)
        attendance = session.exec(select(Attendance).where(Attendance.event_id == event.id))
        rows: dict[int | None, Attendance] = {a.member_id: a for a in attendance}
        people = session.exec(select(Member).where(Member.branch_id == event.branch_id).order_by(Member.userid))
        table = []
        for member in people:
            entry = rows.get(member.id)
            if not member.active and entry is None:
                continue
            signed = clock.local(entry.signed_at).isoformat(timespec="minutes") if entry and entry.signed_at else ""
            late = ("yes" if entry.late else "no") if entry and entry.signed_at else ""
            table.append([member.userid, member.name, branch.code if branch else "",
                          (entry.rsvp or "") if entry else "", signed, late, (entry.result or "") if entry else ""])
    write_table(HEADER, table, fmt, output, sheet=f"attendance {number}")
