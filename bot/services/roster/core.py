"""The roster: members imported from CSV/XLSX, all-or-nothing, upserted by userid.

`import_roster(session, rows, actor)` validates every row and collects `line N: reason`; when any row is
bad nothing is written. Otherwise members are upserted by userid (case-insensitive, stored lower-case) in
bulk statements a chunk at a time (the file is streamed, see `open_table`), unknown branch codes create
a branch named after the code, and one audit row records the counts (never a phone number). Columns
missing from the file are left untouched on existing members; a blank cell means the default (roles
`member`, type `regular`, active true, no date, no phone). Every member has the `member` role. Members
absent from the file are not changed. A member deactivated or losing a role loses their console sessions.

Branches (`import_branches`, roster.branches), erasure (`forget_member`, roster.forget) and reading files
(roster.io) live in their own modules of this package and are re-exported here (`__all__`) for the CLI.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from bot import clock
from bot.models import AuditLog, Branch, Member
from bot.services.console_sessions import end_member_sessions
from bot.services.roster.branches import BranchIndex, import_branches
from bot.services.roster.cells import by_line, control_problems, fields_of, map_headers
from bot.services.roster.forget import forget_member
from bot.services.roster.io import ImportResult, MemberNotFound, RosterError, Table, open_table, read_table
from bot.services.roster.row import parse_row

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

MEMBER_COLUMNS = ("userid", "name", "branch_id", "roles", "member_type", "joined_on", "full_member_on",
                  "phone", "active")


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
        values, more = parse_row(fields_of(row, mapping)) if not problems else ({"userid": ""}, [])
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
