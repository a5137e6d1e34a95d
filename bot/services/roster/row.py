"""One roster row checked by a pydantic model: every problem of the row is reported (`line N: reason` each),
only the columns present in the file are validated and returned (a missing column leaves members alone)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from bot import clock, texts
from bot.models import MEMBER_TYPES, ROLES
from bot.services.roster.cells import parse_bool, parse_date, split_list

USERID = re.compile(r"^[a-z0-9_.@-]{1,64}$")
PHONE = re.compile(r"^\+?\d{5,20}$")
EARLIEST = 1921  # the Party's founding year: an earlier date is a typo

# Words a roster file may use besides the ids and the labels of content/messages.toml (`labels.role`)
ROLE_ALIASES = {"书记": "secretary", "副书记": "deputy", "党委": "committee", "审核": "reviewer"}


@functools.cache
def role_words() -> dict[str, str]:
    return {r: r for r in ROLES} | {w: r for r, w in texts.labels("role").items()} | ROLE_ALIASES


@functools.cache
def type_words() -> dict[str, str]:
    return {t: t for t in MEMBER_TYPES} | {w: t for t, w in texts.labels("member_type").items()}


def _day(key: str, value: str) -> dt.date | None:
    try:
        day = parse_date(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
    if day is not None and day.year < EARLIEST:
        raise ValueError(f"{key} {day} is before {EARLIEST}")
    if day is not None and day > clock.today():
        raise ValueError(f"{key} {day} is in the future")
    return day


class RosterRow(BaseModel):
    """The cells of one row (strings, stripped); each validator's message is the whole reason."""

    model_config = ConfigDict(extra="ignore")

    userid: str
    name: str
    branch: str
    roles: str = "member"
    member_type: str = "regular"
    joined_on: dt.date | None = None
    full_member_on: dt.date | None = None
    phone: str | None = None
    active: bool = True

    @field_validator("userid", mode="before")
    @classmethod
    def _userid(cls, value: str) -> str:
        if not value:
            raise ValueError("userid is empty")
        if not USERID.match(value.lower()):
            raise ValueError(f"userid {value!r} may only use letters, digits and _ . @ - (at most 64)")
        return value.lower()

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value:
            raise ValueError("name is empty")
        if len(value) > 64:
            raise ValueError("name is longer than 64 characters")
        return value

    @field_validator("branch", mode="before")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not value:
            raise ValueError("branch is empty")
        if len(value) > 64 or any(c.isspace() or c == "@" for c in value):
            raise ValueError(f"branch code {value!r} must be at most 64 characters, no spaces or @")
        return value

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, value: str) -> str:
        roles, bad = {"member"}, []
        for word in split_list(value):
            role = role_words().get(word.lower())
            if role is None:
                bad.append(f"unknown role {word!r} (use {', '.join(ROLES)} or 党员/书记/副书记/党委/编辑/审核/管理员)")
            else:
                roles.add(role)
        if bad:
            raise ValueError("\n".join(bad))
        return ";".join(r for r in ROLES if r in roles)

    @field_validator("member_type", mode="before")
    @classmethod
    def _member_type(cls, value: str) -> str:
        member_type = type_words().get(value.lower()) if value else "regular"
        if member_type is None:
            raise ValueError(f"unknown member_type {value!r} (use {', '.join(MEMBER_TYPES)} or "
                             f"{'/'.join(texts.labels('member_type').values())})")
        return member_type

    @field_validator("joined_on", mode="before")
    @classmethod
    def _joined(cls, value: str) -> dt.date | None:
        return _day("joined_on", value)

    @field_validator("full_member_on", mode="before")
    @classmethod
    def _full(cls, value: str, info: ValidationInfo) -> dt.date | None:
        day, joined = _day("full_member_on", value), info.data.get("joined_on")
        if day and joined and day < joined:
            raise ValueError(f"full_member_on {day} is before joined_on {joined}")
        return day

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: str) -> str | None:
        phone = re.sub(r"[\s\-()]", "", value)
        if phone and not PHONE.match(phone):
            raise ValueError("phone must be digits (5 to 20, optional leading +)")  # never echo the number
        return phone or None

    @field_validator("active", mode="before")
    @classmethod
    def _active(cls, value: str) -> bool:
        return parse_bool(value)


def parse_row(values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """One row's fields as model values (only the columns present) and every problem of it."""
    present = {k: values.get(k, "") for k in RosterRow.model_fields if k in values or k in ("userid", "name",
                                                                                             "branch")}
    try:
        row = RosterRow.model_validate(present)
    except ValidationError as exc:
        problems = [line for err in exc.errors() for line in err["msg"].removeprefix("Value error, ").splitlines()]
        return {"userid": present["userid"].lower()}, problems
    return row.model_dump(include=set(present)), []
