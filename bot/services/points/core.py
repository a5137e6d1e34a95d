"""Points: an append-only ledger, caps, exemptions, totals and the ledger's lines (status, bands and ranking
are in `points.ranking`).

Every other area writes here with `award(...)`; nothing is ever updated or deleted, a correction is a new
entry with its own reason and actor, so a member's total can be explained line by line.

Decisions (documented in README.md too):
- Caps (`daily_cap`/`monthly_cap`/`yearly_cap`, in points) apply to the date of the act (`on`), per member
  and rule. An entry is clipped to what remains of the tightest cap; when nothing remains it is still
  written, with zero points and the reason ("超出每日上限：…"), so the member sees why.
- A cap bounds the size of a rule's entries whatever their sign: for a deduction rule it bounds how much
  may be deducted in the window. Additions and deductions of one rule are counted separately, so a
  deduction never frees room for more additions. The built-in deduction rules have no caps.
- A member whose `member_type` is in the rule's `exempt_types` gets a zero entry stating the exemption.
- `award` always writes; a rule with `requires_approval` goes through `submit`, which files a request.
- Total = `[points] base` + the year's entries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import clock, texts
from bot.config import RuleConfig
from bot.models import LedgerEntry, Member, Veto
from bot.refusal import Refusal


class PointsError(Refusal):
    """An expected refusal; the message is the Chinese reply."""


class UnknownRule(PointsError):
    """The rule is not configured in [points.rules]."""


def rule_of(config: Any, rule: str) -> RuleConfig:
    spec = config.points.rules.get(rule)
    if spec is None:
        raise UnknownRule(f"unknown points rule {rule!r}: add [points.rules.{rule}] to the configuration")
    return spec


def label(kind: str, name: str) -> str:
    """Chinese label of a rule, category, band, status or member type; the name itself when none."""
    key = f"points.{kind}.{name}"
    return texts.t(key) if texts.has(key) else name


def _lock_member(session: Session, member: Member) -> None:
    """Serialise awards per member (row lock on PostgreSQL; SQLite writers are serial already)."""
    session.exec(select(Member.id).where(Member.id == member.id).with_for_update())


def _used(session: Session, member: Member, rule: str | None, sign: int, *where: Any) -> int:
    """Points of one sign already in the ledger for `rule` (None: any rule) within `where`."""
    side = LedgerEntry.points > 0 if sign > 0 else LedgerEntry.points < 0
    by_rule = (LedgerEntry.rule == rule,) if rule is not None else ()
    stmt = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.member_id == member.id, side, *by_rule, *where)
    return abs(int(session.exec(stmt).one()))


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt


def _apply_caps(session: Session, member: Member, rule: str, spec: RuleConfig, on: dt.date,
                amount: int, reason: str, category_cap: int | None = None) -> tuple[int, str]:
    """Clip by the rule's daily/monthly/yearly caps, then (additions only) by the annual scheme's cap on
    the rule's category (`[points] category_caps`)."""
    if amount == 0:
        return 0, reason
    first, nxt = _month_bounds(on)
    windows: list[tuple[str, int | None, str | None, tuple[Any, ...]]] = [
        ("daily", spec.daily_cap, rule, (LedgerEntry.period == on,)),
        ("monthly", spec.monthly_cap, rule, (LedgerEntry.period >= first, LedgerEntry.period < nxt)),
        ("yearly", spec.yearly_cap, rule, (LedgerEntry.year == on.year,)),
    ]
    if amount > 0 and category_cap is not None:
        windows.append(("category", category_cap, None,
                        (LedgerEntry.year == on.year, LedgerEntry.category == spec.category)))
    sign = 1 if amount > 0 else -1
    size, binding = abs(amount), None
    for name, cap, scope, where in windows:
        if cap is None:
            continue
        remaining = max(0, abs(cap) - _used(session, member, scope, sign, *where))
        if remaining < size:
            size, binding = remaining, name
    if binding is None:
        return amount, reason
    cap_text = texts.t(f"points.cap_{binding}")
    if size == 0:
        return 0, texts.t("points.capped", cap=cap_text, reason=reason)
    return sign * size, texts.t("points.clipped", cap=cap_text, asked=f"{amount:+d}", reason=reason)


def award(session: Session, config: Any, member: Member, rule: str, *, on: dt.date, reason: str, source: str,
          actor: str = "system", points: int | None = None) -> LedgerEntry:
    """Append one entry for `rule` (points from the rule unless given), clipped by the rule's caps for the
    act's date `on`; an exempt member type gets a zero entry stating the exemption. Always writes."""
    spec = rule_of(config, rule)
    amount = spec.points if points is None else int(points)
    note = (reason or "").strip()[:300] or label("rules", rule)
    _lock_member(session, member)
    if member.member_type in spec.exempt_types:
        final, why = 0, texts.t("points.exempt", type=texts.label("member_type", member.member_type), reason=note)
    else:
        final, why = _apply_caps(session, member, rule, spec, on, amount, note,
                                 config.points.category_caps.get(spec.category))
    assert member.id is not None  # a member row from the session
    entry = LedgerEntry(member_id=member.id, rule=rule, category=spec.category, points=final, reason=why[:500],
                        source=(source or "")[:128], actor=(actor or "system")[:64], at=clock.now(),
                        period=on, year=on.year)
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, member: Member, year: int | None = None) -> list[LedgerEntry]:
    """A member's entries in order of the act, then of writing."""
    stmt = select(LedgerEntry).where(LedgerEntry.member_id == member.id)
    if year is not None:
        stmt = stmt.where(LedgerEntry.year == year)
    return list(session.exec(stmt.order_by(col(LedgerEntry.period), col(LedgerEntry.id))))


def recent(session: Session, member: Member, limit: int = 8) -> list[LedgerEntry]:
    stmt = (select(LedgerEntry).where(LedgerEntry.member_id == member.id)
            .order_by(col(LedgerEntry.at).desc(), col(LedgerEntry.id).desc()).limit(limit))
    return list(session.exec(stmt))


def category_totals(session: Session, year: int, member_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    stmt = (select(LedgerEntry.member_id, LedgerEntry.category, func.sum(LedgerEntry.points))
            .where(LedgerEntry.year == year).group_by(col(LedgerEntry.member_id), col(LedgerEntry.category)))
    if member_ids is not None:
        stmt = stmt.where(col(LedgerEntry.member_id).in_(member_ids))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for member_id, category, total in session.exec(stmt):
        out[member_id][category] = int(total or 0)
    return dict(out)


def categories(config: Any, seen: Any = ()) -> list[str]:
    """Configured categories in rule order, then any other category found in the ledger."""
    names = list(dict.fromkeys(r.category for r in config.points.rules.values()))
    return names + sorted(set(seen) - set(names))


def total(session: Session, config: Any, member: Member, year: int) -> int:
    stmt = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.member_id == member.id, LedgerEntry.year == year)
    return config.points.base + int(session.exec(stmt).one())


def veto_of(session: Session, member: Member, year: int) -> Veto | None:
    return session.exec(select(Veto).where(Veto.member_id == member.id, Veto.year == year)).first()


def entry_line(entry: LedgerEntry, width: int = 60) -> str:
    """`11-25 晨学打卡 +1　reason` (a long reason is shortened for chat; exports keep it whole)."""
    points = f"{entry.points:+d}" if entry.points else "0"
    reason = entry.reason if len(entry.reason) <= width else entry.reason[: width - 1] + "…"
    return texts.t("points.line", day=f"{entry.period:%m-%d}", rule=label("rules", entry.rule), points=points,
                   reason=reason)


def category_line(config: Any, by_category: dict[str, int]) -> str:
    """`学习 2 · 出勤 5` over the categories that have entries, in configured order."""
    items = [f"{label('categories', c)} {by_category[c]}" for c in categories(config, by_category)
             if c in by_category]
    return " · ".join(items)


def month_entries(session: Session, member: Member, year: int, month: int) -> list[LedgerEntry]:
    first = dt.date(year, month, 1)
    _, nxt = _month_bounds(first)
    stmt = select(LedgerEntry).where(LedgerEntry.member_id == member.id, LedgerEntry.period >= first,
                                     LedgerEntry.period < nxt)
    return list(session.exec(stmt.order_by(col(LedgerEntry.period), col(LedgerEntry.id))))


def explain(session: Session, config: Any, member: Member, year: int) -> list[str]:
    """The year line by line: the base, every entry (zero ones with their reason), a veto, the total."""
    lines = [texts.t("points.explain_base", year=year, base=config.points.base)]
    lines += [entry_line(e) for e in entries(session, member, year)]
    veto = veto_of(session, member, year)
    if veto is not None:
        lines.append(texts.t("points.explain_veto", reason=veto.reason, actor=veto.actor))
    lines.append(texts.t("points.explain_total", total=total(session, config, member, year)))
    return lines


def current_year() -> int:
    return clock.today().year
