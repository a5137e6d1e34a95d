"""The whole configuration: TOML merged over defaults, then `DANGJIAN_<SECTION>_<KEY>` environment overrides,
validated in one pass so that every bad key is named in one message."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError
from pydantic_core import ErrorDetails

from bot.config.app import AppConfig, DatabaseConfig, RedisConfig, RetentionConfig
from bot.config.base import ConfigError, Section, as_list
from bot.config.delivery import DeliveryConfig
from bot.config.domain import CalendarConfig, CommitmentsConfig, StudyConfig, ThemeDayConfig, TicketsConfig
from bot.config.platforms import RobotConfig, WechatConfig, WecomConfig
from bot.config.points import PointsConfig
from bot.config.schedule import default_schedule, schedule_problems


class Config(Section):
    app: AppConfig = Field(default_factory=AppConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    wecom: WecomConfig = Field(default_factory=WecomConfig)
    wechat: WechatConfig = Field(default_factory=WechatConfig)
    robot: RobotConfig = Field(default_factory=RobotConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    study: StudyConfig = Field(default_factory=StudyConfig)
    schedule: dict[str, str] = Field(default_factory=default_schedule)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    theme_day: ThemeDayConfig = Field(default_factory=ThemeDayConfig)
    points: PointsConfig = Field(default_factory=PointsConfig)
    tickets: TicketsConfig = Field(default_factory=TicketsConfig)
    commitments: CommitmentsConfig = Field(default_factory=CommitmentsConfig)
    now: dt.datetime | None = None  # DANGJIAN_NOW: frozen clock for demos, replays and tests
    source: str = "defaults"

    def replace(self, **sections: Any) -> Config:
        """A copy with whole sections replaced (tests; `demo --port`)."""
        return self.model_copy(update=sections)


SECTIONS = tuple(name for name in Config.model_fields if name not in ("now", "source"))


def _where(loc: tuple[int | str, ...]) -> str:
    """`("points", "rules", "x", "pointz")` -> "[points.rules.x] pointz"; list indexes become "(item N)"."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    items = "".join(f" (item {p + 1})" for p in loc if isinstance(p, int))
    if len(names) >= 3 and names[:2] == ["points", "rules"]:
        section, rest = f"points.rules.{names[2]}", names[3:]
    else:
        section, rest = names[0], names[1:]
    return f"[{section}] {'.'.join(rest)}{items}" if rest else f"[{section}]{items}"


_BOUNDS = {"greater_than": ("gt", "must be greater than"), "greater_than_equal": ("ge", "must be at least"),
           "less_than": ("lt", "must be less than"), "less_than_equal": ("le", "must be at most")}


def _reason(err: ErrorDetails) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown section" if len(err["loc"]) == 1 else "unknown key"
    if kind in ("model_type", "dict_type"):
        return "must be a table"
    if kind in _BOUNDS:
        bound, words = _BOUNDS[kind]
        return f"{words} {err.get('ctx', {}).get(bound)}, got {err['input']!r}"
    return msg.removeprefix("Value error, ")


def _problem(err: ErrorDetails) -> str:
    """One line `[section] key: reason`. A check across keys of a section (a model validator) names its key
    by starting its message with `key: `."""
    loc, reason = err["loc"], _reason(err)
    key, sep, rest = reason.partition(": ")
    if sep and key.isidentifier() and not [p for p in loc[1:] if isinstance(p, str)]:
        return f"{_where(loc)} {key}: {rest}"
    return f"{_where(loc)}: {reason}"


def _problems(exc: ValidationError) -> list[str]:
    return [_problem(err) for err in exc.errors()]


def fail(problems: list[str], source: str) -> ConfigError:
    where = "" if source in ("defaults", "dict") else f" in {source}"
    if len(problems) == 1:
        return ConfigError(f"bad configuration{where}: {problems[0]}")
    return ConfigError(f"bad configuration{where} ({len(problems)} problems):\n  " + "\n  ".join(problems))


def parse_now(value: str, tz: ZoneInfo) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ConfigError(f"bad value for DANGJIAN_NOW: expected ISO 8601, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _env_overrides(data: dict[str, Any], environ: dict[str, str]) -> list[str]:
    """Apply DANGJIAN_<SECTION>_<KEY>; section names may themselves contain underscores."""
    names = sorted(SECTIONS, key=len, reverse=True)
    problems = []
    for var, value in environ.items():
        if not var.startswith("DANGJIAN_") or var in ("DANGJIAN_CONFIG", "DANGJIAN_NOW"):
            continue
        rest = var[len("DANGJIAN_"):].lower()
        for section in names:
            if rest.startswith(section + "_") and rest != section + "_":
                key = rest[len(section) + 1:]
                table = data.setdefault(section, {})
                if not isinstance(table, dict):
                    problems.append(f"[{section}]: must be a table")
                elif section == "calendar" and key in ("extra_holidays", "extra_workdays"):
                    table[key] = as_list(value)
                else:
                    table[key] = value
                break
    return problems


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
    problems = _env_overrides(data, env)
    problems += [f"[{key}]: unknown section" for key in data if key not in SECTIONS]
    schedule, bad_schedule = schedule_problems(data.pop("schedule", {}))
    problems += bad_schedule
    known = {k: v for k, v in data.items() if k in SECTIONS}
    try:
        cfg = Config.model_validate({**known, "schedule": schedule, "source": source})
    except ValidationError as exc:
        problems += _problems(exc)
    if problems:
        raise fail(problems, source)
    if env.get("DANGJIAN_NOW"):
        cfg = cfg.model_copy(update={"now": parse_now(env["DANGJIAN_NOW"], cfg.app.tz)})
    return cfg
