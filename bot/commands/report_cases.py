"""`dangjian report commitments` and `report tickets`: tables for secretaries (CSV or XLSX via the shared writer).

`report tickets`: one row per branch with tickets plus a final `ALL` row: tickets, open, overdue (open and past
the deadline), closed, average days to close (closed tickets, from report to final close, one decimal),
rated, satisfied and satisfaction (% of rated, one decimal). `--list` gives one row per ticket instead; its
reporter column says `anonymous` for anonymous tickets: no export ever names an anonymous reporter.
`report commitments`: one row per commitment of the year with progress reports, votes and escalation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from sqlmodel import Session, col, select

from bot import clock
from bot.cli import runtime
from bot.commands.report import (
    BRANCH,
    YEAR,
    branch_id_of,
    report_command,
    resolve_format,
    table_options,
    write_table,
    yearly_report,
)
from bot.models import Branch, Commitment, Member, Ticket
from bot.services import commitments as svc

TICKET_SUMMARY = ["branch", "name", "tickets", "open", "overdue", "closed", "avg_days_to_close", "rated",
                  "satisfied", "satisfaction"]
TICKET_LIST = ["number", "branch", "kind", "anonymous", "category", "grade", "status", "created", "due", "closed",
               "days_to_close", "reporter", "assignee", "rating", "reopened", "level"]
COMMITMENTS = ["number", "userid", "name", "branch", "kind", "year", "text", "status", "progress_reports", "votes",
               "satisfied", "satisfaction", "escalated"]


def _days(ticket: Ticket) -> float | None:
    if ticket.status != "closed" or not ticket.closed_at or not ticket.created_at:
        return None
    return (ticket.closed_at - ticket.created_at).total_seconds() / 86400


def _pct(part: int, whole: int) -> float | str:
    return round(part * 100 / whole, 1) if whole else ""


def summary_row(code: str, name: str, rows: list[Ticket], today: dt.date) -> list[object]:
    closed = [d for d in (_days(t) for t in rows) if d is not None]
    rated = [t for t in rows if t.rating]
    satisfied = sum(1 for t in rated if t.rating == "satisfied")
    return [code, name, len(rows), sum(1 for t in rows if t.status == "open"),
            sum(1 for t in rows if t.status == "open" and t.due_on and t.due_on < today), len(closed),
            round(sum(closed) / len(closed), 1) if closed else "", len(rated), satisfied, _pct(satisfied, len(rated))]


def ticket_tables(session: Session, year: int | None, branch_id: int | None, listing: bool) -> list[list[object]]:
    stmt = select(Ticket).order_by(col(Ticket.number))
    if branch_id is not None:
        stmt = stmt.where(Ticket.branch_id == branch_id)
    rows = [t for t in session.exec(stmt)
            if year is None or (t.created_at is not None and clock.local(t.created_at).year == year)]
    branches = {b.id: b for b in session.exec(select(Branch))}
    today = clock.today()
    if listing:
        people = {m.id: m for m in session.exec(select(Member))}
        out: list[list[object]] = []
        for t in rows:
            br = branches.get(t.branch_id)
            reporter = "anonymous" if t.anonymous else (people[t.reporter_id].userid if t.reporter_id else "")
            days = _days(t)
            out.append([t.number, br.code if br else "", t.kind, "yes" if t.anonymous else "no", t.category,
                        t.grade or "", t.status,
                        clock.local(t.created_at).date().isoformat() if t.created_at else "",
                        t.due_on.isoformat() if t.due_on else "",
                        clock.local(t.closed_at).date().isoformat() if t.closed_at else "",
                        round(days, 1) if days is not None else "", reporter,
                        people[t.assignee_id].userid if t.assignee_id else "", t.rating or "", t.reopened, t.level])
        return out
    by_branch: dict[int | None, list[Ticket]] = {}
    for t in rows:
        by_branch.setdefault(t.branch_id, []).append(t)
    table = []
    for bid, items in sorted(by_branch.items(), key=lambda kv: branches[kv[0]].code if kv[0] in branches else ""):
        br = branches.get(bid)
        table.append(summary_row(br.code if br else "", br.name if br else "", items, today))
    table.append(summary_row("ALL", "", rows, today))
    return table


@report_command("tickets")
@click.option("--year", type=YEAR, default=None, help="Only tickets reported in this year (default: all).")
@BRANCH
@click.option("--list", "listing", is_flag=True, help="One row per ticket instead of one per branch.")
@table_options
@click.pass_context
def tickets_report(ctx: click.Context, year: int | None, branch_code: str | None, listing: bool, fmt: str | None,
                   output: str | None) -> None:
    """Per branch: tickets,open,overdue,closed,avg_days_to_close,rated,satisfied,satisfaction (or --list)."""
    resolve_format(fmt, output)
    rt = runtime(ctx)
    with rt.session() as session:
        table = ticket_tables(session, year, branch_id_of(session, branch_code), listing)
    write_table(TICKET_LIST if listing else TICKET_SUMMARY, table, fmt, output, sheet="tickets")


def commitment_rows(session: Session, year: int, branch_id: int | None) -> list[list[object]]:
    stmt = select(Commitment).where(Commitment.year == year).order_by(col(Commitment.number))
    if branch_id is not None:
        stmt = stmt.where(Commitment.branch_id == branch_id)
    branches = {b.id: b for b in session.exec(select(Branch))}
    out: list[list[object]] = []
    for row in session.exec(stmt):
        owner = session.get(Member, row.member_id)
        br = branches.get(row.branch_id)
        satisfied, votes = svc.tally(session, row)
        out.append([row.number, owner.userid if owner else "", owner.name if owner else "", br.code if br else "",
                    row.kind, row.year, row.text, row.status, len(svc.progress_of(session, row)), votes, satisfied,
                    _pct(satisfied, votes), "yes" if row.escalated_at else "no"])
    return out


@yearly_report("commitments", "Commitment year (default: this year).")
def commitments_report(session: Session, config: Any, year: int,
                       branch_id: int | None) -> tuple[list[str], list[list[object]]]:
    """One row per commitment: number,userid,name,branch,kind,year,text,status,progress,votes,satisfaction."""
    return COMMITMENTS, commitment_rows(session, year, branch_id)
