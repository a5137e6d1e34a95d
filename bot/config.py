"""Configuration: TOML merged over defaults, then `DANGJIAN_*` environment overrides.

Every section is a frozen dataclass. An unknown key or a bad value raises `ConfigError` naming the key,
so start-up stops with a clear message instead of misbehaving later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MEMBER_TYPES = ("regular", "retired", "mobile", "probationary", "frail")


class ConfigError(Exception):
    """A configuration key is unknown or its value is bad."""


def default_schedule() -> dict[str, str]:
    """`[schedule]` defaults: each job's own default trigger (scheduler/registry.py lists the jobs)."""
    from scheduler import registry

    return registry.defaults()

DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "study_checkin": {"points": 1, "daily_cap": 1, "category": "study"},
    "study_answer": {"points": 1, "daily_cap": 1, "category": "study"},
    "reflection": {"points": 1, "daily_cap": 1, "category": "study"},
    "makeup_checkin": {"points": 1, "category": "study"},
    "theme_day_attend": {"points": 5, "category": "attendance"},
    "theme_day_late": {"points": -1, "category": "attendance"},
    "theme_day_absent": {"points": -5, "category": "attendance"},
    "commitment_fulfilled": {"points": 5, "category": "commitment"},
    "problem_reported": {"points": 1, "monthly_cap": 3, "category": "participation"},
    "suggestion_adopted": {"points": 3, "category": "participation"},
    "manual": {"points": 0, "category": "adjustment"},
}

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


@dataclass(frozen=True)
class AppConfig:
    timezone: str = "Asia/Shanghai"
    secret_key: str = "change-me"
    seal_key: str = ""  # anonymous-report seals and in-flight encryption; empty = secret_key
    public_url: str = "http://127.0.0.1:8000"
    political_birthday: str = "joined_on"
    reply_timeout: float = 4.0
    trusted_proxies: int = 0  # reverse proxies in front of `serve` whose X-Forwarded-* headers are trusted
    political_birthday_feb29: str = "feb28"  # Feb 29 dates in common years: "feb28" or "mar1"
    inbound_lease_seconds: float = 10.0  # a message being handled by a process that died is re-run after this
    spool_dir: str = "spool"  # callbacks accepted while the database is unreachable wait here (local disk)
    spool_max_mb: int = 64  # a full spool answers 503 (the platform retries)

    def check(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        _choice(self.political_birthday, ("joined_on", "full_member_on"))
        _choice(self.political_birthday_feb29, ("feb28", "mar1"))
        if self.trusted_proxies < 0:
            raise ValueError("trusted_proxies must be >= 0")
        if not self.public_url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        if not 0.5 <= self.reply_timeout <= 4.5:
            raise ValueError("reply_timeout must be between 0.5 and 4.5 seconds")
        if not 1 <= self.inbound_lease_seconds <= 3600:
            raise ValueError("inbound_lease_seconds must be between 1 and 3600")
        if not self.spool_dir.strip():
            raise ValueError("spool_dir must not be empty")
        if self.spool_max_mb < 1:
            raise ValueError("spool_max_mb must be at least 1")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///dangjian.db"

    def check(self) -> None:
        if not self.url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("url must be sqlite:///... or postgresql://...")


@dataclass(frozen=True)
class RedisConfig:
    url: str = ""
    prefix: str = "dangjian:"  # every key we write starts with it (several deployments may share a Redis)

    def check(self) -> None:
        if self.url and not self.url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("url must be redis://... or empty")


@dataclass(frozen=True)
class WecomConfig:
    corp_id: str = ""
    agent_id: int = 0
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://qyapi.weixin.qq.com"
    oauth_url: str = "https://open.weixin.qq.com/connect/oauth2/authorize"  # console login inside WeCom
    sso_url: str = "https://login.work.weixin.qq.com/wwlogin/sso/login"  # console login by QR elsewhere
    timeout: float = 5.0

    def check(self) -> None:
        if self.encoding_aes_key and len(self.encoding_aes_key) != 43:
            raise ValueError("encoding_aes_key must be 43 characters")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    @property
    def enabled(self) -> bool:
        return bool(self.corp_id)


@dataclass(frozen=True)
class WechatConfig:
    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com"
    timeout: float = 5.0

    def check(self) -> None:
        if self.encoding_aes_key and len(self.encoding_aes_key) != 43:
            raise ValueError("encoding_aes_key must be 43 characters")

    @property
    def enabled(self) -> bool:
        return bool(self.app_id)


@dataclass(frozen=True)
class RobotConfig:
    webhooks: dict[str, str] = field(default_factory=dict)
    per_minute: int = 20

    def check(self) -> None:
        for code, url in self.webhooks.items():
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValueError(f"webhook for {code!r} must be an http(s) URL")


@dataclass(frozen=True)
class DeliveryConfig:
    quiet_hours: str = "21:30-07:00"
    daily_budget: int = 3
    digest_at: str = "08:00"  # notices beyond the budget are folded into one digest at this time
    batch_size: int = 1000
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 120.0
    duplicate_check_interval: int = 1800
    poll_seconds: float = 2.0

    def check(self) -> None:
        self.quiet_window()
        parse_hhmm(self.digest_at)
        if not 1 <= self.batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000")
        if self.daily_budget < 0 or self.max_attempts < 1 or self.lease_seconds <= 0:
            raise ValueError("must be positive")

    def quiet_window(self) -> tuple[dt.time, dt.time] | None:
        if not self.quiet_hours.strip():
            return None
        start, sep, end = self.quiet_hours.partition("-")
        if not sep:
            raise ValueError("quiet_hours must look like 21:30-07:00")
        return parse_hhmm(start), parse_hhmm(end)


@dataclass(frozen=True)
class StudyConfig:
    makeup_days: int = 5  # 补签 reaches back this many workdays
    reflection_min: int = 10  # 心得 length limits (characters)
    reflection_max: int = 500
    answer_max: int = 100  # 答 length limit
    remind_exclude: tuple[str, ...] = ()  # member types the noon reminder skips, e.g. ["mobile", "frail"]

    def check(self) -> None:
        if self.makeup_days < 0 or not 1 <= self.reflection_min <= self.reflection_max or self.answer_max < 1:
            raise ValueError("need makeup_days >= 0, 1 <= reflection_min <= reflection_max, answer_max >= 1")
        bad = [t for t in self.remind_exclude if t not in MEMBER_TYPES]
        if bad:
            raise ValueError(f"unknown member type {bad[0]!r} in remind_exclude")


@dataclass(frozen=True)
class RetentionConfig:
    inbound_days: int = 90
    delivery_days: int = 180

    def check(self) -> None:
        if self.inbound_days < 1 or self.delivery_days < 1:
            raise ValueError("retention must be at least one day")


@dataclass(frozen=True)
class CalendarConfig:
    workdays_only: bool = True
    extra_holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class ThemeDayConfig:
    rule: str = "fixed"
    day: int = 5
    limit_day: int = 15
    signin_opens_min: int = 30
    duration_hours: int = 4
    late_after_min: int = 10
    absent_consecutive: int = 3  # unexcused absences in a row within a year -> alert (0 = off)
    absent_cumulative: int = 6  # unexcused absences in a year -> alert (0 = off)
    late_max: int = 2  # late more than this many times in a year -> alert
    min_yearly: int = 0  # attendances a year; alert once out of reach (0 = off)

    def check(self) -> None:
        if min(self.absent_consecutive, self.absent_cumulative, self.late_max, self.min_yearly) < 0:
            raise ValueError("attendance rule values must be >= 0")
        _choice(self.rule, ("fixed", "free"))
        if not (1 <= self.day <= 28 and 1 <= self.limit_day <= 28):
            raise ValueError("day and limit_day must be between 1 and 28")


@dataclass(frozen=True)
class RuleConfig:
    points: int = 0
    category: str = "other"
    daily_cap: int | None = None
    monthly_cap: int | None = None
    yearly_cap: int | None = None
    requires_approval: bool = False
    exempt_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class PointsConfig:
    base: int = 100  # annual scheme base (the 100-point record): report total = base + the year's entries
    pass_line: int = 60
    warning_line: int = 70
    bands: tuple[int, ...] = (10, 20, 60, 10)
    ranking: bool = False
    manual_limit: int = 10
    category_caps: dict[str, int] = field(default_factory=dict)  # category -> most points it adds in a year
    rules: dict[str, RuleConfig] = field(default_factory=dict)

    def check(self) -> None:
        if sum(self.bands) != 100 or any(b < 0 for b in self.bands):
            raise ValueError("bands must be non-negative and add up to 100")


@dataclass(frozen=True)
class TicketsConfig:
    """问题与建议: deadlines in working days, counted from the day of the report (see bot/services/tickets.py)."""

    ungraded_days: int = 5  # before 定级
    urgent_days: int = 1  # 急难
    major_days: int = 3  # 重大
    ordinary_days: int = 5  # 一般
    emerging_days: int = 10  # 萌芽

    def check(self) -> None:
        days = (self.ungraded_days, self.urgent_days, self.major_days, self.ordinary_days, self.emerging_days)
        if min(days) < 1:
            raise ValueError("ticket deadlines must be at least one working day")


@dataclass(frozen=True)
class CommitmentsConfig:
    """承诺践诺: limits per member and year, the satisfaction vote (see bot/services/commitments.py)."""

    yearly_limit: int = 4  # 承诺 per member per year (rejected ones do not count)
    instant_limit: int = 10  # 即时承诺 per member per year
    vote_days: int = 5  # working days the satisfaction vote stays open after 完成
    min_votes: int = 3  # fewer votes never escalate
    satisfaction_threshold: int = 50  # percent: escalated when 满意 × 100 < threshold × votes

    def check(self) -> None:
        if self.yearly_limit < 0 or self.instant_limit < 0 or self.vote_days < 1 or self.min_votes < 1:
            raise ValueError("need yearly_limit, instant_limit >= 0 and vote_days, min_votes >= 1")
        if not 1 <= self.satisfaction_threshold <= 100:
            raise ValueError("satisfaction_threshold must be a percentage between 1 and 100")


@dataclass(frozen=True)
class Config:
    app: AppConfig = field(default_factory=AppConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    wecom: WecomConfig = field(default_factory=WecomConfig)
    wechat: WechatConfig = field(default_factory=WechatConfig)
    robot: RobotConfig = field(default_factory=RobotConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    study: StudyConfig = field(default_factory=StudyConfig)
    schedule: dict[str, str] = field(default_factory=default_schedule)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    theme_day: ThemeDayConfig = field(default_factory=ThemeDayConfig)
    points: PointsConfig = field(default_factory=PointsConfig)
    tickets: TicketsConfig = field(default_factory=TicketsConfig)
    commitments: CommitmentsConfig = field(default_factory=CommitmentsConfig)
    now: dt.datetime | None = None  # DANGJIAN_NOW: frozen clock for demos, replays and tests
    source: str = "defaults"

    def replace(self, **sections: Any) -> Config:
        return dataclasses.replace(self, **sections)


_SECTIONS = {
    "app": AppConfig,
    "database": DatabaseConfig,
    "redis": RedisConfig,
    "wecom": WecomConfig,
    "wechat": WechatConfig,
    "robot": RobotConfig,
    "delivery": DeliveryConfig,
    "retention": RetentionConfig,
    "study": StudyConfig,
    "calendar": CalendarConfig,
    "theme_day": ThemeDayConfig,
    "points": PointsConfig,
    "tickets": TicketsConfig,
    "commitments": CommitmentsConfig,
}


def _choice(value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}")


def _coerce(name: str, annotation: str, value: Any) -> Any:
    """Turn a TOML (or environment string) value into the field's type, or raise ValueError."""
    base = annotation.replace(" | None", "")
    if value is None and "None" in annotation:
        return None
    if base == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.strip().lower() in ("true", "1", "yes")
        raise ValueError("expected true or false")
    if base == "int":
        if isinstance(value, bool):
            raise ValueError("expected an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise ValueError("expected an integer")
    if base == "float":
        if isinstance(value, bool):
            raise ValueError("expected a number")
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError("expected a number") from exc
    if base == "str":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value
    if base.startswith("tuple[dt.date"):
        items = _as_list(value)
        return tuple(_as_date(v) for v in items)
    if base.startswith("tuple[int"):
        return tuple(_coerce(name, "int", v) for v in _as_list(value))
    if base.startswith("tuple[str"):
        return tuple(_coerce(name, "str", v) for v in _as_list(value))
    raise ValueError(f"unsupported type {annotation}")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    raise ValueError("expected a list")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}") from exc


def _build_section(section: str, cls: type, data: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"[{section}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        label = f"[{section}] {key}"
        if key not in fields:
            raise ConfigError(f"unknown key {label}")
        if section == "robot" and key == "webhooks":
            if not isinstance(value, dict):
                raise ConfigError(f"bad value for {label}: expected a table of branch code = URL")
            kwargs[key] = {str(k): v for k, v in value.items()}
            continue
        if section == "points" and key == "rules":
            kwargs[key] = _build_rules(value)
            continue
        if section == "points" and key == "category_caps":
            if not isinstance(value, dict) or any(
                    isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value.values()):
                raise ConfigError(f"bad value for {label}: expected a table of category = points (>= 0)")
            kwargs[key] = {str(k): int(v) for k, v in value.items()}
            continue
        try:
            kwargs[key] = _coerce(key, str(fields[key].type), value)
        except ValueError as exc:
            raise ConfigError(f"bad value for {label}: {exc}") from exc
    obj = cls(**kwargs)
    if section == "points":
        merged = {name: RuleConfig(**_rule_kwargs(name, spec)) for name, spec in DEFAULT_RULES.items()}
        merged.update(obj.rules)
        obj = dataclasses.replace(obj, rules=merged)
    check = getattr(obj, "check", None)
    if check:
        try:
            check()
        except ValueError as exc:
            raise ConfigError(f"bad value in [{section}]: {exc}") from exc
    return obj


def _rule_kwargs(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(RuleConfig)}
    out: dict[str, Any] = {}
    base = DEFAULT_RULES.get(name, {})
    for key, value in {**base, **spec}.items():
        if key not in fields:
            raise ConfigError(f"unknown key [points.rules.{name}] {key}")
        try:
            out[key] = _coerce(key, str(fields[key].type), value)
        except ValueError as exc:
            raise ConfigError(f"bad value for [points.rules.{name}] {key}: {exc}") from exc
    return out


def _build_rules(value: Any) -> dict[str, RuleConfig]:
    if not isinstance(value, dict):
        raise ConfigError("bad value for [points] rules: expected tables")
    rules = {}
    for name, spec in value.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"bad value for [points.rules.{name}]: expected a table")
        rules[name] = RuleConfig(**_rule_kwargs(name, spec))
    return rules


def _check_schedule(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ConfigError("[schedule] must be a table")
    merged = default_schedule()
    for key, value in data.items():
        if key not in merged:
            raise ConfigError(f"unknown key [schedule] {key}")
        try:
            parse_trigger(str(value))
        except ValueError as exc:
            raise ConfigError(f"bad value for [schedule] {key}: {exc}") from exc
        merged[key] = str(value)
    return merged


def parse_now(value: str, tz: ZoneInfo) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ConfigError(f"bad value for DANGJIAN_NOW: expected ISO 8601, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _env_overrides(data: dict[str, Any], environ: dict[str, str]) -> None:
    """Apply DANGJIAN_<SECTION>_<KEY>; section names may themselves contain underscores."""
    names = sorted([*_SECTIONS, "schedule"], key=len, reverse=True)
    for var, value in environ.items():
        if not var.startswith("DANGJIAN_") or var in ("DANGJIAN_CONFIG", "DANGJIAN_NOW"):
            continue
        rest = var[len("DANGJIAN_"):].lower()
        for section in names:
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1:]
                if not key:
                    break
                table = data.setdefault(section, {})
                if not isinstance(table, dict):
                    raise ConfigError(f"[{section}] must be a table")
                if section == "calendar" and key in ("extra_holidays", "extra_workdays"):
                    table[key] = _as_list(value)
                else:
                    table[key] = value
                break


def load(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Load configuration: explicit path, else $DANGJIAN_CONFIG, else ./config.toml, else defaults."""
    env = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    source = "defaults"
    local = "config.toml" if Path("config.toml").exists() else None
    candidate = path or env.get("DANGJIAN_CONFIG") or local
    if candidate:
        file = Path(candidate)
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: {exc}") from exc
        source = str(file)
    return from_dict(data, env, source)


def from_dict(data: dict[str, Any], environ: dict[str, str] | None = None, source: str = "dict") -> Config:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    env = {} if environ is None else environ
    _env_overrides(data, env)
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key == "schedule":
            sections["schedule"] = _check_schedule(value)
        elif key in _SECTIONS:
            sections[key] = _build_section(key, _SECTIONS[key], value)
        else:
            raise ConfigError(f"unknown section [{key}]")
    if "points" not in sections:
        sections["points"] = _build_section("points", PointsConfig, {})
    cfg = Config(**sections, source=source)
    if env.get("DANGJIAN_NOW"):
        cfg = dataclasses.replace(cfg, now=parse_now(env["DANGJIAN_NOW"], cfg.app.tz))
    return cfg
