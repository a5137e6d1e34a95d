"""Shared pieces of the configuration models: the error, the frozen base model, value types, triggers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict

from bot.enums import MemberType

MEMBER_TYPES = tuple(t.value for t in MemberType)


class ConfigError(Exception):
    """A configuration key is unknown or its value is bad (the message names `[section] key`)."""


class Section(BaseModel):
    """A `[section]` of the file: frozen, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    def replace(self, **changes: Any) -> Any:
        """A validated copy with some keys changed (`cfg.app.replace(public_url=...)`)."""
        return type(self).model_validate({**dict(self), **changes})


def _int(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if not isinstance(value, int):
        raise ValueError("expected an integer")
    return value


def _float(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("expected a number") from exc


def _str(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ValueError("expected true or false")


def as_list(value: Any) -> list[Any]:
    """A TOML array, or a comma-separated string (as an environment variable gives it)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    raise ValueError("expected a list")


def _date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}") from exc


Int = Annotated[int, BeforeValidator(_int), Strict()]
Float = Annotated[float, BeforeValidator(_float)]
Str = Annotated[str, BeforeValidator(_str)]
Bool = Annotated[bool, BeforeValidator(_bool)]
Date = Annotated[dt.date, BeforeValidator(_date)]
IntList = Annotated[tuple[Int, ...], BeforeValidator(as_list)]
StrList = Annotated[tuple[Str, ...], BeforeValidator(as_list)]
DateList = Annotated[tuple[Date, ...], BeforeValidator(as_list)]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EVERY = re.compile(r"^every\s+(\d+)\s*([smh])$")


def parse_hhmm(value: str) -> dt.time:
    m = _HHMM.match(value.strip())
    if not m:
        raise ValueError(f"expected HH:MM, got {value!r}")
    return dt.time(int(m.group(1)), int(m.group(2)))


def parse_trigger(value: str) -> tuple[str, int | dt.time]:
    """`"HH:MM"` -> ("daily", time); `"every 10m"` -> ("interval", seconds)."""
    text = value.strip().lower()
    m = _EVERY.match(text)
    if m:
        seconds = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]
        if seconds <= 0:
            raise ValueError("interval must be positive")
        return "interval", seconds
    return "daily", parse_hhmm(text)


def hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


def one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}")
    return value


def member_types(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [t for t in values if t not in MEMBER_TYPES]
    if bad:
        raise ValueError(f"unknown member type {bad[0]!r} (use {', '.join(MEMBER_TYPES)})")
    return values
