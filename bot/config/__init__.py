"""Configuration: TOML merged over defaults, then `DANGJIAN_<SECTION>_<KEY>` environment overrides.

Every section is a frozen pydantic model with `extra="forbid"` and constraints. Unknown keys and bad values
raise one `ConfigError` naming each `[section] key` and why, so start-up stops with a clear message instead
of misbehaving later. Modules: base (types, triggers), app, platforms, delivery, domain, points, schedule,
loader (`Config`, `load`, `from_dict`).
"""

from bot.config.app import AppConfig, DatabaseConfig, RedisConfig, RetentionConfig
from bot.config.base import MEMBER_TYPES, ConfigError, parse_hhmm, parse_trigger
from bot.config.delivery import DeliveryConfig
from bot.config.domain import CalendarConfig, CommitmentsConfig, StudyConfig, ThemeDayConfig, TicketsConfig
from bot.config.loader import SECTIONS, Config, from_dict, load, parse_now
from bot.config.platforms import RobotConfig, WechatConfig, WecomConfig
from bot.config.points import ABSENCE_EXEMPT, DEFAULT_RULES, PointsConfig, RuleConfig
from bot.config.schedule import default_schedule

__all__ = [
    "ABSENCE_EXEMPT",
    "DEFAULT_RULES",
    "MEMBER_TYPES",
    "SECTIONS",
    "AppConfig",
    "CalendarConfig",
    "CommitmentsConfig",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "DeliveryConfig",
    "PointsConfig",
    "RedisConfig",
    "RetentionConfig",
    "RobotConfig",
    "RuleConfig",
    "StudyConfig",
    "ThemeDayConfig",
    "TicketsConfig",
    "WechatConfig",
    "WecomConfig",
    "default_schedule",
    "from_dict",
    "load",
    "parse_hhmm",
    "parse_now",
    "parse_trigger",
]
