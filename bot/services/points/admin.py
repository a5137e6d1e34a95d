"""What people do to points: manual 加分/扣分, one-vote veto, the ranking switch, approval of requests.

- 加分/扣分: secretaries, deputies (their own branch) and committee members (any branch); never for
  oneself; a reason is required; a new `manual` ledger entry with the actor, plus an audit row.
  When the absolute values of all manual adjustments to the member in the calendar month of the act
  (ledger entries and pending requests, by anyone, this one included) exceed `[points] manual_limit`, the
  whole adjustment becomes an approval request (kind `points`, needs_role `committee`): the entry is
  written only when another committee member approves it. So five 加分 of 3 cannot slip past a limit of 10.
- A rule with `requires_approval` goes through `submit`, which files a `points` request a secretary
  decides; the entry is written on approval.
- 否决: committee members only, never oneself, a reason is required, once per member and year.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, func, select

from bot import audit, clock, notify, texts
from bot.enums import PointsRule
from bot.models import Approval, Branch, LedgerEntry, Member, Veto
from bot.services import approvals
from bot.services.points import core as pts
from bot.services.points import ranking

SECRETARY_ROLES = ("secretary", "deputy", "committee")
MAX_MANUAL = 100  # a single 加分/扣分 above this is surely a typo


def _check_actor(actor: Member, target: Member) -> None:
    if not actor.has_role(*SECRETARY_ROLES):
        raise pts.PointsError(texts.t("role.secretary_only"))
    if actor.id == target.id:
        raise pts.PointsError(texts.t("points.own"))
    if not actor.has_role("committee") and target.branch_id != actor.branch_id:
        raise pts.PointsError(texts.t("points.not_your_branch", name=target.name))


def adjust(session: Session, config: Any, actor: Member, target: Member, delta: int, reason: str,
           *, on: dt.date | None = None) -> LedgerEntry | Approval:
    """A manual addition (delta > 0) or deduction (delta < 0): an entry now, or a committee request when the
    month's adjustments to `target` with this one exceed `[points] manual_limit` (see `month_adjusted`).
    Raises PointsError with the Chinese reply on refusal."""
    _check_actor(actor, target)
    reason = (reason or "").strip()
    if not reason:
        raise pts.PointsError(texts.t("points.reason_needed", word="加分" if delta > 0 else "扣分",
                                      userid=target.userid, points=abs(delta)))
    if delta == 0 or abs(delta) > MAX_MANUAL:
        raise pts.PointsError(texts.t("points.bad_points", max=MAX_MANUAL, word="加分" if delta > 0 else "扣分"))
    day = on or clock.today()
    _lock(session, target)  # two secretaries at once must not both stay under the limit
    if month_adjusted(session, target, day) + abs(delta) > config.points.manual_limit:
        summary = texts.t("points.summary", name=target.name, userid=target.userid, points=f"{delta:+d}",
                          reason=reason)
        request = approvals.create(session, "points", target, summary, needs_role="committee", payload={
            "rule": "manual", "points": delta, "reason": reason, "actor": actor.userid, "on": day.isoformat()},
            requested_by=actor.userid)
        audit.record(session, actor.userid, "points_adjust_requested", target.userid,
                     f"#{request.number} {delta:+d} {reason}")
        _tell_committee(session, config, request, exclude=(actor.id, target.id))
        return request
    entry = pts.award(session, config, target, PointsRule.MANUAL, on=day, reason=reason, source="chat",
                      actor=actor.userid, points=delta)
    audit.record(session, actor.userid, "points_adjust", target.userid, f"{delta:+d} {reason}")
    _tell_target(session, config, target, entry)
    return entry


def _lock(session: Session, member: Member) -> None:
    """Serialise adjustments per member (row lock on PostgreSQL; SQLite writers are serial already)."""
    session.exec(select(Member.id).where(Member.id == member.id).with_for_update())


def month_adjusted(session: Session, member: Member, day: dt.date) -> int:
    """Absolute points of every manual adjustment to `member` in the calendar month of `day`: entries in the
    ledger and requests still waiting for a committee member."""
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    stmt = select(func.coalesce(func.sum(func.abs(LedgerEntry.points)), 0)).where(
        LedgerEntry.member_id == member.id, LedgerEntry.rule == PointsRule.MANUAL, LedgerEntry.period >= first,
        LedgerEntry.period < nxt)
    written = int(session.exec(stmt).one())
    waiting = select(Approval).where(Approval.member_id == member.id, Approval.kind == "points",
                                     Approval.status == "pending")
    for request in session.exec(waiting):
        data = approvals.payload(request)
        if data.get("rule") == PointsRule.MANUAL and first <= dt.date.fromisoformat(data["on"]) < nxt:
            written += abs(int(data.get("points") or 0))
    return written


def submit(session: Session, config: Any, member: Member, rule: str, *, on: dt.date, reason: str, source: str,
           actor: str = "system", points: int | None = None) -> LedgerEntry | Approval:
    """`award`, unless the rule requires approval: then a `points` request a secretary decides."""
    spec = pts.rule_of(config, rule)
    if not spec.requires_approval:
        return pts.award(session, config, member, rule, on=on, reason=reason, source=source, actor=actor,
                         points=points)
    amount = spec.points if points is None else int(points)
    summary = texts.t("points.summary", name=member.name, userid=member.userid, points=f"{amount:+d}",
                      reason=reason or pts.label("rules", rule))
    request = approvals.create(session, "points", member, summary, payload={
        "rule": rule, "points": amount, "reason": reason, "actor": actor, "on": on.isoformat(),
        "source": source})
    approvals.announce(session, config, request)
    return request


def _on_approve(session: Session, request: Approval, decider: Member, config: Any) -> None:
    data = approvals.payload(request)
    target = session.get(Member, request.member_id)
    if target is None:
        return
    reason = texts.t("points.approved_reason", reason=data.get("reason") or "", number=request.number,
                     decider=decider.userid)
    entry = pts.award(session, config, target, data.get("rule", PointsRule.MANUAL),
                      on=dt.date.fromisoformat(data["on"]),
                      reason=reason, source=data.get("source") or f"approval:#{request.number}",
                      actor=data.get("actor") or decider.userid, points=data.get("points"))
    audit.record(session, decider.userid, "points_adjust", target.userid,
                 f"#{request.number} {entry.points:+d} {data.get('reason') or ''}")


APPROVAL_KIND = approvals.Kind("points", "points.approval_label", _on_approve)


def _tell_target(session: Session, config: Any, target: Member, entry: LedgerEntry) -> None:
    text = texts.t("points.told_adjusted", points=f"{entry.points:+d}", reason=entry.reason, actor=entry.actor)
    notify.members(session, config, [target], text, key=f"points:entry:{entry.id}", topic="points_notice")


def _tell_committee(session: Session, config: Any, request: Approval, exclude: tuple[int | None, ...]) -> None:
    stmt = select(Member).where(col(Member.active).is_(True), col(Member.roles).contains("committee"))
    people = [m for m in session.exec(stmt) if m.has_role("committee") and m.id not in exclude]
    if people:
        text = texts.t("points.committee_request", number=request.number, summary=request.summary)
        notify.members(session, config, people, text, key=f"points:request:{request.number}", topic="new_request")


def veto(session: Session, config: Any, actor: Member, target: Member, reason: str,
         year: int | None = None) -> Veto:
    """一票否决 of `target`'s year (default: this year); every ledger entry stays."""
    if not actor.has_role("committee"):
        raise pts.PointsError(texts.t("role.needed", role="党委委员"))
    if actor.id == target.id:
        raise pts.PointsError(texts.t("points.veto_own"))
    reason = (reason or "").strip()
    if not reason:
        raise pts.PointsError(texts.t("points.veto_reason"))
    year = year or clock.today().year
    if pts.veto_of(session, target, year) is not None:
        raise pts.PointsError(texts.t("points.veto_already", name=target.name, year=year))
    assert target.id is not None  # a member row from the session
    row = Veto(member_id=target.id, year=year, reason=reason[:500], actor=actor.userid, at=clock.now())
    session.add(row)
    session.flush()
    audit.record(session, actor.userid, "points_veto", target.userid, f"{year} {reason}")
    notify.members(session, config, [target], texts.t("points.told_veto", year=year, reason=reason),
                   key=f"points:veto:{row.id}", topic="points_notice")
    return row


def set_ranking(session: Session, config: Any, actor: Member, branch: Branch, enabled: bool) -> bool:
    """Turn the branch's 排行 on or off; returns False when it already was. Audited."""
    if ranking.ranking_enabled(config, branch) is enabled:
        return False
    branch.ranking_enabled = enabled
    session.add(branch)
    audit.record(session, actor.userid, "ranking_on" if enabled else "ranking_off", branch.code)
    return True
