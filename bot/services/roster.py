"""The roster: members imported from CSV/XLSX, all-or-nothing, upserted by userid.

`import_roster(session, rows, actor)` validates every row and collects `line N: reason`; when any row is
bad nothing is written. Otherwise members are upserted by userid (case-insensitive, stored lower-case) in
bulk statements a chunk at a time (the file is streamed, see `open_table`), unknown branch codes create
a branch named after the code, and one audit row records the counts (never a phone number). Columns
missing from the file are left untouched on existing members; a blank cell means the default (roles
`member`, type `regular`, active true, no date, no phone). Every member has the `member` role. Members
absent from the file are not changed. A member deactivated or losing a role loses their console sessions.

Branches (`import_branches`) and erasure (`forget_member`) live in their own modules and are
re-exported here, so callers import everything roster-related from `bot.services.roster`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from bot import clock
from bot.models import MEMBER_TYPES, ROLES, AuditLog, Branch, Member
from bot.services.console_sessions import end_member_sessions
from bot.services.roster_branches import BranchIndex, import_branches
from bot.services.roster_forget import forget_member
from bot.services.roster_io import (
    ImportResult,
    MemberNotFound,
    RosterError,
    Table,
    by_line,
    control_problems,
    fields_of,
    map_headers,
    open_table,
    parse_bool,
    parse_date,
    read_table,
    split_list,
)

__all__ = [
    "ImportResult", "MemberNotFound", "RosterError", "Table",
    "forget_member", "import_branches", "import_roster", "open_table", "read_table",
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


CHUNK = 500  # rows written per statement batch: memory stays flat however long the file is


def _userid_hash(userid: str) -> int:
    return int.from_bytes(hashlib.blake2b(userid.encode(), digest_size=8).digest(), "big")


def _header_of(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[str]:
    header = getattr(rows, "header", None)
    if header:
        return list(header)
    return list(dict.fromkeys(k for _, row in rows for k in row))


def _duplicates(rows: Iterable[tuple[int, Mapping[str, Any]]], mapping: dict[str, str],
                hashes: array) -> list[str]:
    """`line N: userid 'x' already on line M` for every repeated userid (a second pass, only when the
    sorted hashes show a repeat)."""
    repeated: set[int] = set()
    for bucket in range(16):  # sorted a sixteenth at a time: never a Python int per row for the whole file
        ordered = sorted(h for h in hashes if h >> 60 == bucket)
        repeated.update(a for a, b in itertools.pairwise(ordered) if a == b)
    if not repeated:
        return []
    first_line: dict[str, int] = {}
    errors = []
    for line, row in rows:
        userid = fields_of(row, mapping).get("userid", "").lower()
        if not userid or _userid_hash(userid) not in repeated:
            continue
        if userid in first_line:
            errors.append(f"line {line}: userid {userid!r} already on line {first_line[userid]}")
        else:
            first_line[userid] = line
    return errors


class _Writer:
    """Upserts parsed rows a chunk at a time inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.branches = BranchIndex.load(session)
        self.new_branches: list[str] = []
        self.now = clock.now()
        self.created = self.updated = self.changed = 0

    def _branch_id(self, code: str) -> int:
        branch = self.branches.find(code)
        if branch is None:
            branch = self.branches.add(self.session, Branch(code=code, name=code, level="branch"))
            self.session.flush()
            self.new_branches.append(code)
        assert branch.id is not None
        return branch.id

    def write(self, chunk: list[dict[str, Any]]) -> None:
        cols = [getattr(Member, c) for c in MEMBER_COLUMNS]
        wanted = [values["userid"] for values in chunk]
        existing = {row.userid: row for row in self.session.execute(
            select(col(Member.id), *cols).where(col(Member.userid).in_(wanted)))}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        ended: list[int] = []
        for values in chunk:
            values = dict(values)
            values["branch_id"] = self._branch_id(values.pop("branch"))
            old = existing.get(values["userid"])
            if old is None:
                inserts.append({"roles": "member", "member_type": "regular", "active": True, "joined_on": None,
                                "full_member_on": None, "phone": None, **values,
                                "created_at": self.now, "updated_at": self.now})
                continue
            self.updated += 1
            changed = {k: v for k, v in values.items() if getattr(old, k) != v}
            if changed:
                updates.append({"id": old.id, **changed, "updated_at": self.now})
            lost_role = "roles" in changed and set(old.roles.split(";")) - set(changed["roles"].split(";"))
            if lost_role or changed.get("active") is False:
                ended.append(old.id)
        if inserts:
            self.session.execute(insert(Member), inserts)
        for group in _same_keys(updates):
            self.session.execute(update(Member), group)
        if ended:
            end_member_sessions(self.session, ended)  # deactivated or lost a role: their console sessions end
        self.created += len(inserts)
        self.changed += len(updates)


def import_roster(session: Session, rows: Iterable[tuple[int, Mapping[str, Any]]], actor: str) -> ImportResult:
    """Validate every row and upsert members by userid; nothing is written when any row is bad.

    `rows` is what `open_table` or `read_table` returns (or any re-iterable `(line, {header: value})`
    pairs). One streaming pass validates each row and writes clean rows in chunks inside a savepoint;
    after the first bad row nothing more is written, the rest is only validated, and the savepoint is
    rolled back, so a bad file changes nothing. Only compact state is kept per row (an 8-byte hash of its
    userid, to find repeats); the caller commits.
    """
    mapping, errors = map_headers(_header_of(rows), ROSTER_HEADERS, REQUIRED)
    if errors:
        return ImportResult(errors=errors)
    hashes = array("Q")
    savepoint = session.begin_nested()
    writer = _Writer(session)
    chunk: dict[str, dict[str, Any]] = {}
    repeated = False
    for line, row in rows:
        problems = control_problems(row, mapping)
        values, more = _parse_row(fields_of(row, mapping)) if not problems else ({"userid": ""}, [])
        problems += more
        if problems:
            errors.extend(f"line {line}: {p}" for p in problems)
        userid = values["userid"]
        if userid:
            hashes.append(_userid_hash(userid))
        if errors or repeated:
            continue
        if userid in chunk:
            repeated = True  # reported with its lines by `_duplicates`
            continue
        chunk[userid] = values
        if len(chunk) >= CHUNK:
            writer.write(list(chunk.values()))
            chunk.clear()
    if not errors and not repeated and chunk:
        writer.write(list(chunk.values()))
    errors.extend(_duplicates(rows, mapping, hashes))
    if errors:
        savepoint.rollback()
        return ImportResult(errors=by_line(errors))
    savepoint.commit()
    result = ImportResult(created=writer.created, updated=writer.updated)
    session.add(AuditLog(at=writer.now, actor=actor, action="import_roster", target="roster", detail=json.dumps(
        {"created": result.created, "updated": result.updated, "changed": writer.changed,
         "branches_created": writer.new_branches}, ensure_ascii=False)))
    session.flush()
    return result


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Bulk UPDATE by primary key runs as executemany per identical key set."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())
