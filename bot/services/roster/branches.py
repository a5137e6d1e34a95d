"""Branches: `code,name,parent,level` imported all-or-nothing, upserted by code.

`parent` is a branch code (earlier or later in the same file, or already in the database) and gives the
escalation chain; cycles and unknown parents are rejected. Codes match case-insensitively and keep the
spelling they were created with. A blank level keeps an existing branch's level (new ones: `branch`);
a blank parent makes a top-level branch; a missing column leaves that field alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from bot import clock
from bot.models import BRANCH_LEVELS, AuditLog, Branch
from bot.services.roster.cells import by_line, control_problems, fields_of, map_headers
from bot.services.roster.io import ImportResult

BRANCH_HEADERS: dict[str, str] = {
    "code": "code", "编码": "code", "代码": "code",
    "name": "name", "名称": "name",
    "parent": "parent", "上级": "parent",
    "level": "level", "级别": "level",
}
LEVEL_WORDS: dict[str, str] = {lv: lv for lv in BRANCH_LEVELS} | {
    "支部": "branch", "党支部": "branch", "总支": "general_branch", "党总支": "general_branch",
    "总支部": "general_branch", "党委": "committee",
}


@dataclass
class BranchIndex:
    """Every branch, found by code (exact, then case-insensitive) or, for the roster, by exact name."""

    by_code: dict[str, Branch] = field(default_factory=dict)
    by_lower: dict[str, Branch] = field(default_factory=dict)
    by_name: dict[str, list[Branch]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> BranchIndex:
        index = cls()
        for branch in session.exec(select(Branch)):
            index._remember(branch)
        return index

    def _remember(self, branch: Branch) -> None:
        self.by_code[branch.code] = branch
        self.by_lower.setdefault(branch.code.lower(), branch)
        self.by_name.setdefault(branch.name, []).append(branch)

    def code(self, code: str) -> Branch | None:
        return self.by_code.get(code) or self.by_lower.get(code.lower())

    def find(self, code_or_name: str) -> Branch | None:
        found = self.code(code_or_name)
        if found is None and len(self.by_name.get(code_or_name, ())) == 1:
            found = self.by_name[code_or_name][0]
        return found

    def add(self, session: Session, branch: Branch) -> Branch:
        session.add(branch)
        self._remember(branch)
        return branch


def _check_code(value: str, what: str) -> str | None:
    if not value:
        return f"{what} is empty"
    if len(value) > 64 or any(c.isspace() or c == "@" for c in value):
        return f"{what} {value!r} must be at most 64 characters, no spaces or @"
    return None


def _validate(rows: list[tuple[int, dict[str, str]]], index: BranchIndex) -> list[str]:
    errors: list[str] = []
    first_line: dict[str, int] = {}
    for line, values in rows:
        problems = [p for p in (_check_code(values["code"], "code"),) if p]
        key = values["code"].lower()
        if values["code"] and key in first_line:
            problems.append(f"code {values['code']!r} already on line {first_line[key]}")
        elif values["code"]:
            first_line[key] = line
        if not values.get("name"):
            problems.append("name is empty")
        elif len(values["name"]) > 128:
            problems.append("name is longer than 128 characters")
        level = values.get("level", "")
        if level and level.lower() not in LEVEL_WORDS:
            problems.append(f"unknown level {level!r} (use branch/general_branch/committee or 支部/总支/党委)")
        errors.extend(f"line {line}: {p}" for p in problems)
    for line, values in rows:
        parent = values.get("parent", "")
        if parent and parent.lower() not in first_line and index.code(parent) is None:
            errors.append(f"line {line}: unknown parent {parent!r} (not in this file nor in the database)")
    if errors:
        return errors
    # The parent chain after the import: database links, replaced by the file where it names a parent.
    code_of = {b.id: b.code.lower() for b in index.by_code.values()}
    parent_of: dict[str, str | None] = {
        b.code.lower(): code_of.get(b.parent_id) if b.parent_id else None for b in index.by_code.values()}
    for _, values in rows:
        if "parent" in values or values["code"].lower() not in parent_of:
            parent_of[values["code"].lower()] = values.get("parent", "").lower() or None
    for line, values in rows:
        start = values["code"].lower()
        chain, current = [values["code"]], parent_of.get(start)
        seen = {start}
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = parent_of.get(current)
        if current == start:
            errors.append(f"line {line}: parent cycle {' → '.join([*chain, values['code']])}")
    return errors


def import_branches(session: Session, rows: Iterable[tuple[int, Mapping[str, Any]]], actor: str) -> ImportResult:
    """Validate every row, then upsert branches by code and link parents; the caller commits."""
    header = getattr(rows, "header", None)
    rows = list(rows)
    header = header or list(dict.fromkeys(k for _, row in rows for k in row))
    mapping, errors = map_headers(header, BRANCH_HEADERS, ("code", "name"))
    if errors:
        return ImportResult(errors=errors)
    errors = [f"line {line}: {p}" for line, row in rows for p in control_problems(row, mapping)]
    if errors:
        return ImportResult(errors=errors)
    parsed = [(line, fields_of(row, mapping)) for line, row in rows]
    index = BranchIndex.load(session)
    errors = _validate(parsed, index)
    if errors:
        return ImportResult(errors=by_line(errors))
    created = updated = 0
    touched: list[tuple[Branch, dict[str, str]]] = []
    for _, values in parsed:
        level = LEVEL_WORDS.get(values.get("level", "").lower())
        branch = index.code(values["code"])
        if branch is None:
            branch = index.add(session, Branch(code=values["code"], name=values["name"], level=level or "branch"))
            created += 1
        else:
            branch.name = values["name"]
            branch.level = level or branch.level
            session.add(branch)
            updated += 1
        touched.append((branch, values))
    session.flush()
    for branch, values in touched:
        if "parent" in values:
            parent = index.code(values["parent"]) if values["parent"] else None
            branch.parent_id = parent.id if parent else None
            session.add(branch)
    result = ImportResult(created=created, updated=updated)
    session.add(AuditLog(at=clock.now(), actor=actor, action="import_branches", target="branches",
                         detail=json.dumps({"created": created, "updated": updated}, ensure_ascii=False)))
    session.flush()
    return result
