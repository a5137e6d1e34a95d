"""The roster: members imported from CSV/XLSX, all-or-nothing, upserted by userid.

`import_roster(session, rows, actor)` validates every row first and collects `line N: reason`; when any
row is bad nothing is written. Otherwise members are upserted by userid (case-insensitive, stored
lower-case) in bulk statements, unknown branch codes create a branch named after the code, and one
audit row records the counts (never a phone number). Columns missing from the file are left untouched
on existing members; a blank cell means the default (roles `member`, type `regular`, active true,
no date, no phone). Every member has the `member` role. Members absent from the file are not changed.

Branches (`import_branches`) and erasure (`forget_member`) live in their own modules and are
re-exported here, so callers import everything roster-related from `bot.services.roster`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from bot import clock
from bot.models import MEMBER_TYPES, ROLES, AuditLog, Branch, Member
from bot.services.roster_branches import BranchIndex, import_branches
from bot.services.roster_forget import FORGET_HOOKS, forget_hook, forget_member
from bot.services.roster_io import (
    ImportResult,
    MemberNotFound,
    RosterError,
    Table,
    by_line,
    fields_of,
    map_headers,
    parse_bool,
    parse_date,
    read_table,
    split_list,
)

__all__ = [
    "FORGET_HOOKS", "ImportResult", "MemberNotFound", "RosterError", "Table", "forget_hook",
    "forget_member", "import_branches", "import_roster", "read_table",
]

ROSTER_HEADERS: dict[str, str] = {
    "userid": "userid", "工号": "userid", "账号": "userid",
    "name": "name", "姓名": "name",
    "branch": "branch", "支部": "branch",
    "roles": "roles", "角色": "roles",
    "member_type": "member_type", "类别": "member_type",
    "joined_on": "joined_on", "入党日期": "joined_on",
    "full_member_on": "full_member_on", "转正日期": "full_member_on",
    "phone": "phone", "手机": "phone",
    "active": "active", "在册": "active",
}
REQUIRED = ("userid", "name", "branch")

ROLE_WORDS: dict[str, str] = {r: r for r in ROLES} | {
    "党员": "member", "书记": "secretary", "支部书记": "secretary", "副书记": "deputy", "党委": "committee",
    "党委委员": "committee", "编辑": "editor", "审核": "reviewer", "管理员": "admin",
}
TYPE_WORDS: dict[str, str] = {t: t for t in MEMBER_TYPES} | {
    "在职": "regular", "退休": "retired", "流动": "mobile", "预备": "probationary", "老弱病残": "frail",
}
USERID = re.compile(r"^[a-z0-9_.@-]{1,64}$")
PHONE = re.compile(r"^\+?\d{5,20}$")
EARLIEST = 1921  # the Party's founding year: an earlier date is a typo

MEMBER_COLUMNS = ("userid", "name", "branch_id", "roles", "member_type", "joined_on", "full_member_on",
                  "phone", "active")


def _parse_row(values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """One row's fields as model values (only the columns present) and its problems."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    userid = values.get("userid", "").lower()
    if not userid:
        problems.append("userid is empty")
    elif not USERID.match(userid):
        problems.append(f"userid {values['userid']!r} may only use letters, digits and _ . @ - (at most 64)")
    out["userid"] = userid
    name = values.get("name", "")
    if not name:
        problems.append("name is empty")
    elif len(name) > 64:
        problems.append("name is longer than 64 characters")
    out["name"] = name
    out["branch"] = values.get("branch", "")
    if not out["branch"]:
        problems.append("branch is empty")
    elif len(out["branch"]) > 64 or any(c.isspace() or c == "@" for c in out["branch"]):
        problems.append(f"branch code {out['branch']!r} must be at most 64 characters, no spaces or @")
    if "roles" in values:
        roles = {"member"}
        for word in split_list(values["roles"]):
            role = ROLE_WORDS.get(word.lower())
            if role is None:
                problems.append(f"unknown role {word!r} (use {', '.join(ROLES)} or 党员/书记/副书记/党委/"
                                "编辑/审核/管理员)")
            else:
                roles.add(role)
        out["roles"] = ";".join(r for r in ROLES if r in roles)
    if "member_type" in values:
        word = values["member_type"]
        member_type = TYPE_WORDS.get(word.lower()) if word else "regular"
        if member_type is None:
            problems.append(f"unknown member_type {word!r} (use {', '.join(MEMBER_TYPES)} or "
                            "在职/退休/流动/预备/老弱病残)")
        out["member_type"] = member_type
    today = clock.today()
    for key in ("joined_on", "full_member_on"):
        if key not in values:
            continue
        try:
            day = parse_date(values[key])
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
            day = None
        if day is not None and day.year < EARLIEST:
            problems.append(f"{key} {day} is before {EARLIEST}")
        elif day is not None and day > today:
            problems.append(f"{key} {day} is in the future")
        out[key] = day
    if out.get("joined_on") and out.get("full_member_on") and out["full_member_on"] < out["joined_on"]:
        problems.append(f"full_member_on {out['full_member_on']} is before joined_on {out['joined_on']}")
    if "phone" in values:
        phone = re.sub(r"[\s\-()]", "", values["phone"])
        if phone and not PHONE.match(phone):
            problems.append("phone must be digits (5 to 20, optional leading +)")  # never echo the number
        out["phone"] = phone or None
    if "active" in values:
        try:
            out["active"] = parse_bool(values["active"])
        except ValueError as exc:
            problems.append(str(exc))
    return out, problems


def validate_roster(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> tuple[list[tuple[int, dict]], list[str]]:
    """Parsed rows and every `line N: reason`; the file must be clean before anything is written."""
    header = getattr(rows, "header", None)
    rows = list(rows)
    header = header or list(dict.fromkeys(k for _, row in rows for k in row))
    mapping, errors = map_headers(header, ROSTER_HEADERS, REQUIRED)
    if errors:
        return [], errors
    parsed: list[tuple[int, dict]] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        values, problems = _parse_row(fields_of(row, mapping))
        userid = values["userid"]
        if userid and userid in first_line:
            problems.append(f"userid {userid!r} already on line {first_line[userid]}")
        elif userid:
            first_line[userid] = line
        errors.extend(f"line {line}: {p}" for p in problems)
        parsed.append((line, values))
    return parsed, by_line(errors)


def import_roster(session: Session, rows: Iterable[tuple[int, Mapping[str, Any]]], actor: str) -> ImportResult:
    """Validate all rows, then upsert members by userid; nothing is written when any row is bad.

    `rows` is what `read_table` returns (or any `(line, {header: value})` pairs). The caller commits.
    """
    parsed, errors = validate_roster(rows)
    if errors:
        return ImportResult(errors=errors)
    branches = BranchIndex.load(session)
    new_branches: list[str] = []
    for code in dict.fromkeys(values["branch"] for _, values in parsed):
        if branches.find(code) is None:
            branches.add(session, Branch(code=code, name=code, level="branch"))
            new_branches.append(code)
    session.flush()

    cols = [getattr(Member, c) for c in MEMBER_COLUMNS]
    existing = {row.userid.lower(): row for row in session.execute(select(Member.id, *cols))}
    now = clock.now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    matched = 0
    for _, values in parsed:
        values = dict(values)
        values["branch_id"] = branches.find(values.pop("branch")).id
        old = existing.get(values["userid"])
        if old is None:
            inserts.append({"roles": "member", "member_type": "regular", "active": True, "joined_on": None,
                            "full_member_on": None, "phone": None, **values,
                            "created_at": now, "updated_at": now})
            continue
        matched += 1
        changed = {k: v for k, v in values.items() if getattr(old, k) != v}
        if changed:
            updates.append({"id": old.id, **changed, "updated_at": now})
    if inserts:
        session.execute(insert(Member), inserts)
    for group in _same_keys(updates):
        session.execute(update(Member), group)
    result = ImportResult(created=len(inserts), updated=matched)
    session.add(AuditLog(at=now, actor=actor, action="import_roster", target="roster", detail=json.dumps(
        {"created": result.created, "updated": result.updated, "changed": len(updates),
         "branches_created": new_branches}, ensure_ascii=False)))
    session.flush()
    return result


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Bulk UPDATE by primary key runs as executemany per identical key set."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())
