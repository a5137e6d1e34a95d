"""[delivery]: quiet hours, the daily budget and the outbox worker."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from bot.config.base import Float, Int, Section, Str, hhmm, parse_hhmm


def _window(value: str) -> tuple[dt.time, dt.time] | None:
    if not value.strip():
        return None
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"expected HH:MM-HH:MM (e.g. 21:30-07:00) or empty, got {value!r}")
    return parse_hhmm(start), parse_hhmm(end)


class DeliveryConfig(Section):
    quiet_hours: Str = "21:30-07:00"
    daily_budget: Annotated[Int, Field(ge=0)] = 3
    digest_at: Annotated[Str, AfterValidator(hhmm)] = "08:00"  # notices beyond the budget: one digest then
    batch_size: Annotated[Int, Field(ge=1, le=1000)] = 1000
    max_attempts: Annotated[Int, Field(ge=1)] = 8
    backoff_seconds: Annotated[Float, Field(ge=0)] = 30.0
    backoff_max_seconds: Annotated[Float, Field(ge=0)] = 3600.0
    lease_seconds: Annotated[Float, Field(gt=0)] = 120.0
    duplicate_check_interval: Annotated[Int, Field(ge=0)] = 1800
    poll_seconds: Annotated[Float, Field(gt=0)] = 2.0

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        _window(value)
        return value

    @model_validator(mode="after")
    def _backoff(self) -> DeliveryConfig:
        if self.backoff_max_seconds < self.backoff_seconds:
            raise ValueError(f"backoff_max_seconds: must be at least backoff_seconds ({self.backoff_seconds})")
        return self

    def quiet_window(self) -> tuple[dt.time, dt.time] | None:
        return _window(self.quiet_hours)
