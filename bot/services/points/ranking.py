"""Standing and ranking: a member's status (qualified / warning / unqualified) and band within their branch,
the branch's standings and the public 排行, and whether a branch shows rankings at all.

Status: a veto makes it `unqualified` (entries are kept); else below `pass_line` is `unqualified`, below
`warning_line` is `warning`, otherwise `qualified`. Bands (1261 by default) per branch by rank: a member's
band is decided by the share of the branch ranked strictly above them (ties share the better band), so the
best member is always in the first band and a branch of fewer than 10 members has nobody in a 10% bottom
band. Vetoed members are left out of the ranking and put in the last band. Totals come from `points.core`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from bot.models import Branch, LedgerEntry, Member, Veto
from bot.services.points.core import category_totals, total, veto_of

STATUSES = ("qualified", "warning", "unqualified")


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


def ranking_enabled(config: Any, branch: Branch | None) -> bool:
    if branch is not None and branch.ranking_enabled is not None:
        return bool(branch.ranking_enabled)
    return bool(config.points.ranking)
