"""`forget`'s last step: every text column of every table loses the member's userid, openid, name, phone and
own sentences wherever they were copied (notices in outbound payloads, request summaries, audit details,
other members' messages naming them, ledger reasons, task summaries...).

Matching is case-insensitive; a userid/openid/phone matches as a whole token only (not inside a longer
identifier), a name never inside another roster member's longer name. Each replacement is cut to the
column's length. Columns that hold no personal text (status words, hashes, codes) are skipped, and so are
the member table (handled by `forget_member`), operator accounts, leases and the token cache.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, func, or_, select, update
from sqlmodel import Session, SQLModel

SKIP_TABLES = frozenset({"member", "admin_user", "lease", "key_value"})
SKIP_COLUMNS = frozenset({"status", "kind", "channel", "action", "needs_role", "roles", "member_type", "rule",
                          "category", "via", "rsvp", "result", "level", "msg_type", "series", "grade", "rating",
                          "period", "dedup_key", "password_hash", "slug", "code", "worker", "reporter_ref"})
ERASED_TEXT = "（已注销）"
_TOKEN_EDGE = r"A-Za-z0-9_.@-"


@dataclass(frozen=True)
class Secret:
    text: str
    replacement: str
    token: bool = False  # an identifier: matched as a whole token only


def variants(secrets: Iterable[Secret]) -> list[Secret]:
    """Each secret as written, and as it appears inside JSON (escaped, with and without ensure_ascii)."""
    out: dict[str, Secret] = {}
    for s in secrets:
        out.setdefault(s.text.lower(), s)
        for ascii_only in (True, False):
            escaped = json.dumps(s.text, ensure_ascii=ascii_only)[1:-1]
            if escaped != s.text:
                stand_in = json.dumps(s.replacement, ensure_ascii=ascii_only)[1:-1]
                out.setdefault(escaped.lower(), Secret(escaped, stand_in, s.token))
    return sorted(out.values(), key=lambda s: -len(s.text))


def _pattern(secrets: list[Secret], protected: list[str]) -> re.Pattern[str]:
    parts = [re.escape(p) for p in sorted(protected, key=len, reverse=True)]  # longer names: left alone
    for s in secrets:
        body = re.escape(s.text)
        parts.append(rf"(?<![{_TOKEN_EDGE}]){body}(?![{_TOKEN_EDGE}])" if s.token else body)
    return re.compile("|".join(f"({p})" for p in parts), re.IGNORECASE)


def _is_text(kind: Any) -> bool:
    """String and Text columns, SQLModel's AutoString (a TypeDecorator over String) included."""
    return isinstance(getattr(kind, "impl_instance", kind), String)


def _like(text: str) -> str:
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def sweep(session: Session, secrets: list[Secret], protected: list[str], changed: dict[str, set]) -> None:
    """Replace every occurrence of `secrets` in every text column; record changed primary keys per table."""
    secrets = [s for s in variants(secrets) if len(s.text) >= 2]
    if not secrets:
        return
    protected = [p for p in protected if any(s.text.lower() in p.lower() for s in secrets if not s.token)]
    pattern = _pattern(secrets, protected)
    offset = len(protected)
    by_text = {s.text.lower(): s for s in secrets}

    def replace(match: re.Match[str]) -> str:
        if match.lastindex is not None and match.lastindex <= offset:
            return match.group(0)
        return by_text[match.group(0).lower()].replacement

    for table in SQLModel.metadata.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        columns = [c for c in table.columns if _is_text(c.type) and not c.primary_key and c.name not in SKIP_COLUMNS]
        keys = list(table.primary_key.columns)
        if not columns or not keys:
            continue
        hits = or_(*(func.lower(c).like(_like(s.text), escape="\\") for c in columns for s in secrets))
        for row in session.execute(select(*keys, *columns).where(hits)).mappings().all():
            values = {}
            for column in columns:
                old = row[column.name]
                if not old:
                    continue
                new = pattern.sub(replace, old)
                if new != old:
                    length = getattr(column.type, "length", None)
                    values[column.name] = new[:length] if length else new
            if values:
                where = [k == row[k.name] for k in keys]
                session.execute(update(table).where(*where).values(**values))
                changed.setdefault(table.name, set()).add(tuple(row[k.name] for k in keys))
