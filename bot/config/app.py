"""[app], [database], [redis] and [retention]: the process and its stores."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, field_validator

from bot.config.base import Float, Int, Section, Str, one_of


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _http(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


HttpUrl = Annotated[Str, AfterValidator(_http)]


class AppConfig(Section):
    timezone: Annotated[Str, AfterValidator(_zone)] = "Asia/Shanghai"
    secret_key: Str = "change-me"
    seal_key: Str = ""  # anonymous-report seals and in-flight encryption; empty = secret_key
    public_url: HttpUrl = "http://127.0.0.1:8000"
    political_birthday: Annotated[Str, AfterValidator(lambda v: one_of(v, ("joined_on", "full_member_on")))] = (
        "joined_on")
    reply_timeout: Annotated[Float, Field(ge=0.5, le=4.5)] = 4.0
    trusted_proxies: Annotated[Int, Field(ge=0)] = 0  # reverse proxies whose X-Forwarded-* headers are trusted
    # Feb 29 dates in common years: "feb28" or "mar1"
    political_birthday_feb29: Annotated[Str, AfterValidator(lambda v: one_of(v, ("feb28", "mar1")))] = "feb28"
    # a message being handled by a process that died is re-run after this
    inbound_lease_seconds: Annotated[Float, Field(ge=1, le=3600)] = 10.0
    spool_dir: Str = "spool"  # callbacks accepted while the database is unreachable wait here (local disk)
    spool_max_mb: Annotated[Int, Field(ge=1)] = 64  # a full spool answers 503 (the platform retries)

    @field_validator("spool_dir")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DatabaseConfig(Section):
    url: Str = "sqlite:///dangjian.db"

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("must be sqlite:///... or postgresql://...")
        return value


class RedisConfig(Section):
    url: Str = ""
    prefix: Str = "dangjian:"  # every key we write starts with it (several deployments may share a Redis)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be redis://... or empty")
        return value


class RetentionConfig(Section):
    inbound_days: Annotated[Int, Field(ge=1)] = 90
    delivery_days: Annotated[Int, Field(ge=1)] = 180
