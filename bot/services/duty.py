"""值班 (duty roster, case 10): `date,userid` rows imported all-or-nothing, reminders the day before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot import audit, notify, texts
from bot.models import DutyShift, Member
from bot.services.roster.cells import control_problems, fields_of, map_headers, parse_date
from bot.services.roster.io import ImportResult, Table

ALIASES = {"date": "date", "日期": "date", "值班日期": "date", "userid": "userid", "工号": "userid",
           "账号": "userid"}


@dataclass
class DutyImport(ImportResult):
    """`created` shifts and `existing` ones left alone (`updated` stays 0: a shift has nothing to update)."""

    existing: int = 0

    def summary(self) -> str:
        return f"created={self.created} existing={self.existing} rejected={len(self.errors)}"


def import_rows(session: Session, table: Table, actor: str = "cli") -> DutyImport:
    """Add every (date, member) of the table; any bad row: nothing is added and `errors` says why."""
    result = DutyImport()
    mapping, result.errors = map_headers(table.header, ALIASES, ("date", "userid"))
    if result.errors:
        return result
    members = {m.userid: m for m in session.exec(select(Member))}
    wanted: list[tuple[int, dt.date, Member]] = []
    for line, raw in table:
        bad = control_problems(raw, mapping)
        if bad:
            result.errors.extend(f"line {line}: {p}" for p in bad)
            continue
        values = fields_of(raw, mapping)
        try:
            day = parse_date(values.get("date", ""))
        except ValueError as exc:
            result.errors.append(f"line {line}: {exc}")
            continue
        if day is None:
            result.errors.append(f"line {line}: date is empty")
            continue
        userid = values.get("userid", "").lower()
        member = members.get(userid)
        if not userid:
            result.errors.append(f"line {line}: userid is empty")
        elif member is None:
            result.errors.append(f"line {line}: unknown userid {userid!r}")
        elif not member.active:
            result.errors.append(f"line {line}: {userid!r} is not an active member")
        else:
            wanted.append((line, day, member))
    if result.errors:
        return result
    for _, day, member in wanted:
        assert member.id is not None  # a member row from the session
        found = session.exec(select(DutyShift).where(DutyShift.date == day, DutyShift.member_id == member.id)).first()
        if found is None:
            session.add(DutyShift(date=day, member_id=member.id))
            session.flush()
            result.created += 1
        else:
            result.existing += 1
    audit.record(session, actor, "import_duty", "", f"created={result.created}")
    return result


def on_duty(session: Session, day: dt.date) -> list[Member]:
    stmt = (select(Member).join(DutyShift, col(DutyShift.member_id) == Member.id)
            .where(DutyShift.date == day, Member.active).order_by(col(Member.id)))
    return list(session.exec(stmt))


def remind(session: Session, config: Any, today: dt.date) -> int:
    """Tell the members on duty tomorrow. Returns recipients queued."""
    tomorrow = today + dt.timedelta(days=1)
    people = on_duty(session, tomorrow)
    if not people:
        return 0
    text = texts.t("duty.reminder", date=tomorrow.isoformat())
    return notify.members(session, config, people, text, key=f"duty:{tomorrow}", topic="duty_reminder",
                          anchor=tomorrow)
