"""One study item as a file gives it, checked by a pydantic model: every problem of an item is reported
(`ItemErrors.reasons`, one line each), never only the first."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from bot.controlchars import has_control
from bot.models import STUDY_SERIES, STUDY_STATUSES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
SUMMARY_MAX = 120
TRUE = ("true", "1", "yes", "是", "y")
FALSE = ("false", "0", "no", "否", "n", "")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("must be YYYY-MM-DD") from None


def _text(value: Any) -> str:
    text = str(value or "").strip()
    if has_control(text):
        raise ValueError("contains a control character")
    return text


def _required(value: str) -> str:
    if not value:
        raise ValueError("is required")
    return value


def _longest(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters, over {limit}")
        return value

    return check


Text = Annotated[str, BeforeValidator(_text)]


class ItemIn(BaseModel):
    """One study item as a file gives it; every field is checked and every problem reported."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    slug: Text = ""
    series: Text = ""
    title: Annotated[Text, AfterValidator(_required), AfterValidator(_longest(128))] = ""
    summary: Annotated[Text, AfterValidator(_required), AfterValidator(_longest(SUMMARY_MAX))] = ""
    body: Annotated[Text, AfterValidator(_required)] = ""
    question: Annotated[Text, AfterValidator(_longest(500))] = ""
    answer: Annotated[Text, AfterValidator(_longest(200))] = ""
    publish_on: Annotated[dt.date | None, BeforeValidator(_date)] = None
    urgent: Annotated[bool, BeforeValidator(_bool)] = False
    weekly_key: Annotated[bool, BeforeValidator(_bool)] = False
    status: Annotated[str, BeforeValidator(lambda v: str(v or "draft").strip().lower())] = "draft"
    editor: Text = ""
    reviewer: Text = ""

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value.lower()):
            raise ValueError("must be 1-80 characters a-z, 0-9 and -")
        return value.lower()

    @field_validator("series", "status")
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        allowed, sep = (STUDY_SERIES, "、") if info.field_name == "series" else (STUDY_STATUSES, ", ")
        if value not in allowed:
            raise ValueError(f"must be one of {sep.join(allowed)}")
        return value

    @field_validator("answer")
    @classmethod
    def _pair(cls, value: str, info: ValidationInfo) -> str:
        question = info.data.get("question")
        if question is not None and bool(value) != bool(question):
            raise ValueError("given without a question" if value else "is missing (the question needs one)")
        return value



def _reason(err: ErrorDetails) -> str:
    name = str(err["loc"][0]) if err["loc"] else "item"
    if err["type"] == "extra_forbidden":
        return f"unknown field {name!r}"
    if err["type"] == "bool_type":
        return f"{name}: expected true or false"
    message = err["msg"].removeprefix("Value error, ")
    return f"{name}: {message}" if message.startswith("expected") else f"{name} {message}"


class ItemErrors(ValueError):
    """Every problem of one item (`reasons`, one line each)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def validate(raw: dict[str, Any]) -> dict[str, Any]:
    """A clean item dict, or ItemErrors listing every reason."""
    try:
        item = ItemIn.model_validate(raw)
    except ValidationError as exc:
        raise ItemErrors([_reason(err) for err in exc.errors()]) from None
    data = item.model_dump()
    for key in ("question", "answer", "editor", "reviewer"):
        data[key] = data[key] or None
    return data
