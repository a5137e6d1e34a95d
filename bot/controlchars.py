"""NUL and the other C0 control characters: refused at every edge (web requests, imported files).

PostgreSQL cannot store NUL in text (psycopg raises) and SQLite would keep it, so input carrying one is
refused before it reaches a parser or the database. Tab, newline and carriage return stay allowed (text
areas send CRLF); DEL is refused too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control(value: str) -> bool:
    return CONTROL.search(value) is not None


def any_control(values: Iterable[str]) -> bool:
    return any(has_control(v) for v in values)
