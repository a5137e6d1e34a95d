"""[points] and its `[points.rules.<name>]` tables (see CONTRACT.md "Points")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from bot.config.base import Bool, Int, IntList, Section, Str
from bot.config.domain import MemberTypes, NonNegative
from bot.enums import MemberType, PointsRule

# frail and retired members are not penalised for missing a theme day unless the deployment says otherwise
ABSENCE_EXEMPT = (MemberType.FRAIL.value, MemberType.RETIRED.value)

DEFAULT_RULES: dict[str, dict[str, Any]] = {
    PointsRule.STUDY_CHECKIN: {"points": 1, "daily_cap": 1, "category": "study"},
    PointsRule.STUDY_ANSWER: {"points": 1, "daily_cap": 1, "category": "study"},
    PointsRule.REFLECTION: {"points": 1, "daily_cap": 1, "category": "study"},
    PointsRule.MAKEUP_CHECKIN: {"points": 1, "category": "study"},
    PointsRule.THEME_DAY_ATTEND: {"points": 5, "category": "attendance"},
    PointsRule.THEME_DAY_LATE: {"points": -1, "category": "attendance"},
    PointsRule.THEME_DAY_ABSENT: {"points": -5, "category": "attendance", "exempt_types": list(ABSENCE_EXEMPT)},
    PointsRule.COMMITMENT_FULFILLED: {"points": 5, "category": "commitment"},
    PointsRule.PROBLEM_REPORTED: {"points": 1, "monthly_cap": 3, "category": "participation"},
    PointsRule.SUGGESTION_ADOPTED: {"points": 3, "category": "participation"},
    PointsRule.MANUAL: {"points": 0, "category": "adjustment"},
}
DEFAULT_RULES = {str(name): spec for name, spec in DEFAULT_RULES.items()}

TABLES = {"category_caps": "expected a table of category = points (>= 0)",
          "rules": "expected tables [points.rules.<name>]"}
Cap = Annotated[Int, Field(ge=0)] | None


class RuleConfig(Section):
    points: Int = 0
    category: Str = "other"
    daily_cap: Cap = None
    monthly_cap: Cap = None
    yearly_cap: Cap = None
    requires_approval: Bool = False
    exempt_types: MemberTypes = ()


def _bands(value: tuple[int, ...]) -> tuple[int, ...]:
    if any(b < 0 for b in value) or sum(value) != 100:
        raise ValueError(f"must be non-negative and add up to 100, got {list(value)}")
    return value


class PointsConfig(Section):
    base: Int = 100  # annual scheme base (the 100-point record): report total = base + the year's entries
    pass_line: Int = 60
    warning_line: Int = 70
    bands: Annotated[IntList, AfterValidator(_bands)] = (10, 20, 60, 10)
    ranking: Bool = False
    manual_limit: NonNegative = 10
    # category -> most points it adds in a year
    category_caps: dict[str, NonNegative] = Field(default_factory=dict)
    rules: dict[str, RuleConfig] = Field(default_factory=lambda: _merge_rules({}))

    @model_validator(mode="after")
    def _lines(self) -> PointsConfig:
        if self.pass_line >= self.warning_line:
            raise ValueError(f"pass_line: must be below warning_line ({self.warning_line}), got {self.pass_line} "
                             "(below pass_line is unqualified, below warning_line a warning)")
        return self

    @field_validator("category_caps", "rules", mode="before")
    @classmethod
    def _tables(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, dict):
            raise ValueError(TABLES[info.field_name or ""])
        return _merge_rules(value) if info.field_name == "rules" else value


def _merge_rules(given: dict[str, Any]) -> dict[str, Any]:
    """Every built-in rule, each key of a given `[points.rules.<name>]` over the built-in's defaults."""
    merged: dict[str, Any] = {name: RuleConfig(**spec) for name, spec in DEFAULT_RULES.items()}
    for name, spec in given.items():
        if isinstance(spec, RuleConfig):
            merged[name] = spec
        elif isinstance(spec, dict):
            merged[name] = {**DEFAULT_RULES.get(name, {}), **spec}
        else:
            merged[name] = spec  # not a table: RuleConfig reports it
    return merged
