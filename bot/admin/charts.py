"""The dashboard's charts, drawn on the server as inline SVG (no script, nothing fetched): study completion
per branch over the last 30 workdays, theme-day attendance rate per branch (the last year), open and
overdue tickets, and the points bands of this year. A secretary's charts cover their own branch only."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import clock
from bot.admin.principal import Principal
from bot.models import Attendance, Branch, CheckIn, Member, StudyDay, ThemeDay, Ticket
from bot.services.points import core as points
from bot.services.points import ranking

WORKDAYS = 30
ROW, LABEL_W, WIDTH = 26, 96, 320


@dataclass
class Bar:
    label: str
    value: float  # 0..1 of the chart's scale
    text: str


def bar_chart(chart_id: str, title: str, bars: list[Bar]) -> Markup:
    """Horizontal bars, one per row: label, bar, value text; scales to its container's width."""
    height = max(1, len(bars)) * ROW + 4
    parts = [f'<svg id="{chart_id}" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">']
    if not bars:
        parts.append('<text x="0" y="18" class="none">暂无数据</text>')
    span = WIDTH - LABEL_W - 52
    for i, bar in enumerate(bars):
        y = i * ROW + 4
        width = max(1.0, round(span * min(max(bar.value, 0.0), 1.0), 1))
        parts.append(f'<text x="0" y="{y + 15}">{escape(bar.label[:7])}</text>'
                     f'<rect class="bar" x="{LABEL_W}" y="{y + 3}" width="{width}" height="16" rx="2"/>'
                     f'<text x="{LABEL_W + width + 4}" y="{y + 15}">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _branches(session: Session, who: Principal) -> list[Branch]:
    return [b for b in session.exec(select(Branch).order_by(Branch.code)) if who.sees_branch(b.id)]


def _study(session: Session, branches: list[Branch]) -> list[Bar]:
    today = clock.today()
    start = clock.add_workdays(today, -(WORKDAYS - 1)) if clock.is_workday(today) else \
        clock.add_workdays(clock.previous_workday(today), -(WORKDAYS - 1))
    days = session.exec(select(func.count()).select_from(StudyDay).where(
        StudyDay.date >= start, StudyDay.date <= today)).one()
    members = dict(session.exec(select(Member.branch_id, func.count()).where(col(Member.active).is_(True))
                                .group_by(col(Member.branch_id))).all())
    done = dict(session.exec(select(Member.branch_id, func.count()).join(CheckIn, col(CheckIn.member_id) == Member.id)
                             .where(CheckIn.date >= start, CheckIn.date <= today, col(Member.active).is_(True))
                             .group_by(col(Member.branch_id))).all())
    bars = []
    for b in branches:
        expected = members.get(b.id, 0) * days
        if expected:
            rate = done.get(b.id, 0) / expected
            bars.append(Bar(b.name, rate, f"{rate:.0%}"))
    return bars


def _attendance(session: Session, branches: list[Branch]) -> list[Bar]:
    since = clock.now() - dt.timedelta(days=365)
    stmt = (select(ThemeDay.branch_id, Attendance.result).join(ThemeDay, col(ThemeDay.id) == Attendance.event_id)
            .where(ThemeDay.starts_at >= since, col(Attendance.result).in_(("present", "late", "absent"))))
    per: dict[int, Counter[str]] = {}
    for branch_id, result in session.exec(stmt):
        per.setdefault(branch_id, Counter())[result or ""] += 1
    bars = []
    for b in branches:
        counts = per.get(b.id or 0)
        if counts:
            total = sum(counts.values())
            rate = (counts["present"] + counts["late"]) / total
            bars.append(Bar(b.name, rate, f"{rate:.0%}"))
    return bars


def _tickets(session: Session, who: Principal) -> list[Bar]:
    today = clock.today()
    stmt = select(Ticket).where(Ticket.status == "open")
    open_ = [t.due_on for t in session.exec(stmt) if who.sees_branch(t.branch_id)]
    overdue = sum(1 for due in open_ if due is not None and due < today)
    top = max(len(open_), 1)
    return [Bar("办理中", len(open_) / top, str(len(open_))), Bar("已超期", overdue / top, str(overdue))]


def _bands(session: Session, config: Any, who: Principal) -> list[Bar]:
    rows = ranking.standings(session, config, points.current_year(), who.branch_filter())
    counts = Counter(r.band for r in rows if r.band)
    top = max(counts.values(), default=1)
    return [Bar(f"{band} 档", counts[band] / top, f"{counts[band]} 人") for band in ranking.band_labels(config)]


def dashboard_charts(session: Session, config: Any, who: Principal) -> list[tuple[str, Markup]]:
    branches = _branches(session, who)
    study = _study(session, branches)
    return [(f"学习完成率（近 {WORKDAYS} 个工作日）", bar_chart("chart-study", "学习完成率", study)),
            ("主题党日出勤率（近一年）", bar_chart("chart-attendance", "出勤率", _attendance(session, branches))),
            ("问题建议", bar_chart("chart-tickets", "问题建议", _tickets(session, who))),
            (f"{points.current_year()} 年积分档次", bar_chart("chart-bands", "积分档次", _bands(session, config, who)))]
