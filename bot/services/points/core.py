"""Points: an append-only ledger, caps, exemptions, totals, bands and status.

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
- Total = `[points] base` + the year's entries. Status: a veto makes it `unqualified` (entries are kept);
  else below `pass_line` is `unqualified`, below `warning_line` is `warning`, otherwise `qualified`.
- Bands (1261 by default) per branch by rank: a member's band is decided by the share of the branch ranked
  strictly above them (ties share the better band). So the best member is always in the first band and a
  branch of fewer than 10 members has nobody in a 10% bottom band: small branches round in the member's
  favour. Vetoed members are left out of the ranking and put in the last band.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, or_
from sqlmodel import Session, col, select

from bot import clock, texts
from bot.config import RuleConfig
from bot.models import Branch, LedgerEntry, Member, Veto
from bot.refusal import Refusal

STATUSES = ("qualified", "warning", "unqualified")


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


def status_for(config: Any, total_points: int, vetoed: bool) -> str:
    if vetoed or total_points < config.points.pass_line:
        return "unqualified"
    if total_points < config.points.warning_line:
        return "warning"
    return "qualified"


@dataclass
class Standing:
    member: Member
    branch: Branch | None
    by_category: dict[str, int]
    total: int
    vetoed: bool
    status: str
    band: str = ""
    rank: int | None = None  # 1 = best, ties share; None when vetoed
    extra: dict[str, Any] = field(default_factory=dict)


def band_labels(config: Any) -> list[str]:
    return [chr(ord("A") + i) for i in range(len(config.points.bands))]


def assign_bands(config: Any, rows: list[Standing]) -> None:
    """Rank one branch's rows by total; the band comes from the share of members strictly ahead."""
    labels = band_labels(config)
    cumulative = list(itertools.accumulate(config.points.bands))
    ranked = sorted((r for r in rows if not r.vetoed), key=lambda r: (-r.total, r.member.userid))
    n = len(ranked)
    ahead = 0
    for i, row in enumerate(ranked):
        if i == 0 or row.total != ranked[i - 1].total:
            ahead = i
        row.rank = ahead + 1
        row.band = next((labels[k] for k, cum in enumerate(cumulative) if ahead * 100 < n * cum), labels[-1])
    for row in rows:
        if row.vetoed:
            row.rank, row.band = None, labels[-1]


def standings(session: Session, config: Any, year: int, branch_id: int | None = None) -> list[Standing]:
    """One row per active member (and any member with entries that year), banded within their branch,
    ordered by branch code, rank, userid."""
    # EXISTS per member (an index probe), not IN (the year's whole ledger): one branch stays cheap at 8 M rows
    counted = exists().where(col(LedgerEntry.member_id) == Member.id, col(LedgerEntry.year) == year)
    stmt = select(Member).where(or_(col(Member.active).is_(True), counted))
    if branch_id is not None:
        stmt = stmt.where(Member.branch_id == branch_id)
    people = list(session.exec(stmt))
    ids = [m.id for m in people if m.id is not None]
    sums = category_totals(session, year, ids) if ids else {}
    vetoed = set(session.exec(select(Veto.member_id).where(Veto.year == year))) if ids else set()
    branches = {b.id: b for b in session.exec(select(Branch))}
    by_branch: dict[int | None, list[Standing]] = defaultdict(list)
    for m in people:
        assert m.id is not None  # rows from the session
        cats = sums.get(m.id, {})
        points = config.points.base + sum(cats.values())
        row = Standing(m, branches.get(m.branch_id), cats, points, m.id in vetoed,
                       status_for(config, points, m.id in vetoed))
        by_branch[m.branch_id].append(row)
    for rows in by_branch.values():
        assign_bands(config, rows)
    out = [r for rows in by_branch.values() for r in rows]
    out.sort(key=lambda r: (r.branch.code if r.branch else "", r.rank or 10**9, r.member.userid))
    return out


def public_ranking(rows: list[Standing]) -> list[tuple[int, Standing]]:
    """排行 as every member of the branch sees it: (rank, row) by total, ties sharing a rank, erased members
    left out. Vetoes and bands are not part of it (they are for the member, the secretary, the committee and
    admins), so a vetoed member is ranked by total like anyone else and nothing marks them."""
    shown = sorted((r for r in rows if not is_erased(r.member)), key=lambda r: (-r.total, r.member.userid))
    out: list[tuple[int, Standing]] = []
    for i, row in enumerate(shown):
        rank = out[-1][0] if i and row.total == shown[i - 1].total else i + 1
        out.append((rank, row))
    return out


def is_erased(member: Member) -> bool:
    """A member whose personal data `dangjian forget` erased."""
    from bot.services.roster.forget import is_forgotten

    return is_forgotten(member)


def standing_of(session: Session, config: Any, member: Member, year: int) -> Standing:
    for row in standings(session, config, year, member.branch_id):
        if row.member.id == member.id:
            return row
    points = total(session, config, member, year)
    vetoed = veto_of(session, member, year) is not None
    return Standing(member, None, {}, points, vetoed, status_for(config, points, vetoed))


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


def ranking_enabled(config: Any, branch: Branch | None) -> bool:
    if branch is not None and branch.ranking_enabled is not None:
        return bool(branch.ranking_enabled)
    return bool(config.points.ranking)


def current_year() -> int:
    return clock.today().year
