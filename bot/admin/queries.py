"""The console's reads and its one write, as plain functions over a session (counts and pages in SQL).

Deliveries are dated by their message (`outbound_message.created_at`): that table is small, and the join
then walks `delivery.message_id`'s index instead of scanning every delivery row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import audit, clock, texts
from bot.enums import DeliveryStatus
from bot.models import AuditLog, Branch, Delivery, JobRun, Member, OutboundMessage

DELIVERY_STATUSES = tuple(s.value for s in DeliveryStatus)
# The outbox writes one audit row with this action per send that failed for a configuration reason
# (bad secret, IP not trusted, unknown robot...): those rows are the admins' delivery alerts.
CONFIG_ALERT_ACTION = "delivery_config_error"
ALERT_DAYS = 7
MAX_PAGE = 100_000


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int | None = None  # None: not counted (large tables), `has_next` says if there is more
    has_next: bool = False

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // self.per_page))


@dataclass
class Dashboard:
    members_active: int = 0
    members_inactive: int = 0
    branches: int = 0
    deliveries_today: dict[str, int] = field(default_factory=dict)
    failed_week: int = 0
    alert_count: int = 0
    alerts: list[AuditLog] = field(default_factory=list)  # the newest configuration-error alerts
    jobs: list[JobRun] = field(default_factory=list)
    calendar_warning: str | None = None  # chinese-calendar lacks this year (or the next, from November)


def _offset(page: int, per_page: int) -> int:
    return (min(max(page, 1), MAX_PAGE) - 1) * per_page


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def dashboard(session: Session, jobs: int = 10, alerts: int = 10, branch_id: int | None = None) -> Dashboard:
    """The counts; with `branch_id` (a secretary's console) the member counts are that branch's."""
    out = Dashboard()
    counts = select(Member.active, func.count()).group_by(col(Member.active))
    if branch_id is not None:
        counts = counts.where(Member.branch_id == branch_id)
    for active, count in session.exec(counts):
        if active:
            out.members_active = count
        else:
            out.members_inactive = count
    out.branches = 1 if branch_id is not None else session.exec(select(func.count()).select_from(Branch)).one()
    start = clock.at(clock.today(), dt.time(0))
    today = (select(Delivery.status, func.count())
             .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id)
             .where(col(OutboundMessage.created_at) >= start,
                    col(OutboundMessage.created_at) < start + dt.timedelta(days=1))
             .group_by(col(Delivery.status)))
    out.deliveries_today = {status: count for status, count in session.exec(today)}
    since = clock.now() - dt.timedelta(days=ALERT_DAYS)
    failed = (col(Delivery.status) == "failed", col(OutboundMessage.created_at) >= since)
    out.failed_week = session.exec(
        select(func.count()).select_from(Delivery)
        .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id).where(*failed)).one()
    recent = (col(AuditLog.action) == CONFIG_ALERT_ACTION, col(AuditLog.at) >= since)
    out.alert_count = session.exec(select(func.count()).select_from(AuditLog).where(*recent)).one()
    out.alerts = list(session.exec(select(AuditLog).where(*recent)
                                      .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).limit(alerts)))
    out.jobs = list(session.exec(select(JobRun).order_by(col(JobRun.id).desc()).limit(jobs)))
    missing = clock.missing_year(clock.today())
    out.calendar_warning = texts.t("calendar.missing", year=missing) if missing else None
    return out


def branches(session: Session) -> list[Branch]:
    return list(session.exec(select(Branch).order_by(Branch.code)))


def members(session: Session, *, branch_id: int | None, text: str, active: bool | None, page: int,
            per_page: int = 50) -> Page:
    where: list[Any] = []
    if branch_id is not None:
        where.append(Member.branch_id == branch_id)
    if active is not None:
        where.append(Member.active == active)
    if text:
        pattern = _like(text.lower())
        where.append(or_(col(Member.userid).like(pattern, escape="\\"),
                         func.lower(Member.name).like(pattern, escape="\\")))
    total = session.exec(select(func.count()).select_from(Member).where(*where)).one()
    rows = session.execute(  # sqlalchemy's select: sqlmodel's is typed for at most four columns
        sa_select(col(Member.userid), col(Member.name), col(Member.roles), col(Member.member_type),
                  col(Member.active), col(Member.phone), col(Branch.code), col(Branch.name))
        .outerjoin(Branch, col(Branch.id) == Member.branch_id).where(*where)
        .order_by(col(Member.userid)).limit(per_page).offset(_offset(page, per_page)))
    return Page(list(rows), page, per_page, total=total)


def deliveries(session: Session, *, status: str | None, page: int, per_page: int = 50) -> Page:
    # sqlalchemy's select: sqlmodel's is typed for at most four columns
    stmt = (sa_select(Delivery, col(OutboundMessage.channel), col(OutboundMessage.kind),
                      col(OutboundMessage.created_at), col(OutboundMessage.sealed))
            .join(OutboundMessage, col(OutboundMessage.id) == Delivery.message_id))
    if status:
        stmt = stmt.where(col(Delivery.status) == status)
    rows = list(session.execute(stmt.order_by(col(Delivery.id).desc()).limit(per_page + 1)
                             .offset(_offset(page, per_page))))
    return Page(rows[:per_page], page, per_page, has_next=len(rows) > per_page)


def audit_log(session: Session, *, action: str, page: int, per_page: int = 50) -> Page:
    stmt = select(AuditLog)
    if action:
        stmt = stmt.where(col(AuditLog.action).like(_like(action), escape="\\"))
    rows = list(session.exec(stmt.order_by(col(AuditLog.id).desc()).limit(per_page + 1)
                             .offset(_offset(page, per_page))))
    return Page(rows[:per_page], page, per_page, has_next=len(rows) > per_page)


def branch_tree(session: Session) -> list[tuple[Branch, int, int]]:
    """(branch, depth, active members) in tree order: each parent followed by its children."""
    counts = dict(session.exec(select(Member.branch_id, func.count())
                               .where(Member.active == True)  # noqa: E712
                               .group_by(col(Member.branch_id))).all())
    items = branches(session)
    ids = {b.id for b in items}
    children: dict[int | None, list[Branch]] = {}
    for b in items:
        parent = b.parent_id if b.parent_id in ids and b.parent_id != b.id else None
        children.setdefault(parent, []).append(b)
    out: list[tuple[Branch, int, int]] = []
    seen: set[int | None] = set()

    def walk(parent: int | None, depth: int) -> None:
        for b in children.get(parent, []):
            if b.id in seen:  # a cycle in the parent chain: show each branch once
                continue
            seen.add(b.id)
            out.append((b, depth, counts.get(b.id, 0)))
            walk(b.id, depth + 1)

    walk(None, 0)
    out.extend((b, 0, counts.get(b.id, 0)) for b in items if b.id not in seen)  # orphans of a cycle
    return out


def update_branch(session: Session, branch_id: int, *, push_enabled: bool, ranking_enabled: bool | None,
                  actor: str, theme_day: tuple[str | None, int | None, int | None] | None = None) -> Branch | None:
    """Save a branch's console settings and audit what changed; None when there is no such branch.
    `theme_day` is the (rule, day, limit_day) override, None each for [theme_day]; None: left as it is."""
    branch = session.get(Branch, branch_id, with_for_update=True)
    if branch is None:
        return None
    changes = []
    names = ("theme_day_rule", "theme_day_day", "theme_day_limit_day") if theme_day is not None else ()
    for name, value in zip(names, theme_day or (), strict=True):
        if getattr(branch, name) != value:
            changes.append(f"{name}: {getattr(branch, name)} -> {value}")
            setattr(branch, name, value)
    if branch.push_enabled != push_enabled:
        changes.append(f"push_enabled: {branch.push_enabled} -> {push_enabled}")
        branch.push_enabled = push_enabled
    if branch.ranking_enabled != ranking_enabled:
        changes.append(f"ranking_enabled: {branch.ranking_enabled} -> {ranking_enabled}")
        branch.ranking_enabled = ranking_enabled
    if changes:
        session.add(branch)
        audit.record(session, actor, "branch.settings", target=f"branch:{branch.code}", detail="; ".join(changes))
    return branch
