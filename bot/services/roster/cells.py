"""What the importers (roster, branches, duty) share after reading a table (`roster.io`): mapping the file's
headers to fields, normalising cells, parsing dates, yes/no values and lists, and sorting errors by line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.controlchars import has_control
from bot.services.roster.io import cell_text, header_key, norm


def control_problems(row: Mapping[str, Any], mapping: Mapping[str, str]) -> list[str]:
    """`<field> contains a control character` for each mapped cell that has one (PostgreSQL refuses NUL)."""
    return [f"{mapping[k]} contains a control character" for k, v in row.items()
            if k in mapping and isinstance(v, str) and has_control(v)]


def map_headers(header: Iterable[str], aliases: Mapping[str, str], required: Iterable[str]) -> tuple[
        dict[str, str], list[str]]:
    """{file header: field} and errors (`line 1: ...`) for unknown, doubled or missing columns."""
    mapping: dict[str, str] = {}
    errors: list[str] = []
    for name in header:
        target = aliases.get(header_key(name))
        if target is None:
            known = ", ".join(dict.fromkeys(aliases.values()))
            errors.append(f"line 1: unknown column {name!r} (known: {known})")
        elif target in mapping.values():
            errors.append(f"line 1: column {name!r} repeats {target!r}")
        else:
            mapping[name] = target
    for name in required:
        if name not in mapping.values():
            errors.append(f"line 1: missing required column {name!r}")
    return mapping, errors


def fields_of(row: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, str]:
    """A row keyed by field name, values as normalised text."""
    return {mapping[k]: norm(cell_text(v)) for k, v in row.items() if k in mapping}


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?$")


def parse_date(value: str) -> dt.date | None:
    """YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYY年M月D日; '' is None; anything else ValueError."""
    if not value:
        return None
    m = _DATE.match(value)
    if not m:
        raise ValueError(f"bad date {value!r} (use YYYY-MM-DD)")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise ValueError(f"no such date {value!r}") from exc


TRUE_WORDS = {"true", "1", "yes", "y", "是", "在册", "t"}


FALSE_WORDS = {"false", "0", "no", "n", "否", "不在册", "f"}


def parse_bool(value: str, default: bool = True) -> bool:
    word = value.strip().lower()
    if not word:
        return default
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"bad yes/no value {value!r} (use true/false, 1/0, 是/否)")


def by_line(errors: list[str]) -> list[str]:
    """`line N: ...` messages in file order (stable within a line)."""
    def line_of(message: str) -> int:
        m = re.match(r"line (\d+):", message)
        return int(m[1]) if m else 0
    return sorted(errors, key=line_of)


def split_list(value: str) -> list[str]:
    """`a;b`, also with ',', '、' or '|' (full-width forms are NFKC-normalised already)."""
    return [part.strip() for part in re.split(r"[;,、|]", value) if part.strip()]
