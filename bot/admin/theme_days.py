"""`/admin/theme-days`: upcoming and recent theme days with RSVP and attendance counts; create one for a
branch, postpone or cancel it. Each change goes through the same service functions as the chat commands
(`theme_day.create`, `reschedule`, `drop`), so members are notified and the audit log written the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import clock, texts
from bot.admin.base import bp, not_found, runtime
from bot.admin.principal import area
from bot.models import Attendance, Branch, ThemeDay
from bot.services.theme_day import agenda as theme_day_agenda
from bot.services.theme_day import core as theme_day
from bot.services.theme_day.agenda import ThemeDayError

RECENT_DAYS = 60
LIMIT = 100


def _counts(session: Session, ids: list[int | None]) -> dict[int | None, dict[str, int]]:
    """Per event: 参加 (going), 请假 (approved or pending), 签到 (signed) and 迟到 (late)."""
    if not ids:
        return {}
    event_id = col(Attendance.event_id)
    # sqlalchemy's select (run with session.execute): sqlmodel's is typed for at most four columns
    stmt = (sa_select(event_id,
                      func.sum(case((col(Attendance.rsvp) == "going", 1), else_=0)),
                      func.sum(case((col(Attendance.rsvp).in_(("leave", "leave_pending")), 1), else_=0)),
                      func.sum(case((col(Attendance.signed_at).is_not(None), 1), else_=0)),
                      func.sum(case((col(Attendance.late) == True, 1), else_=0)))  # noqa: E712
            .where(event_id.in_(ids)).group_by(event_id))
    return {row[0]: {"going": int(row[1] or 0), "leave": int(row[2] or 0), "signed": int(row[3] or 0),
                     "late": int(row[4] or 0)} for row in session.execute(stmt)}


def _rows(session: Session, upcoming: bool) -> list[dict[str, Any]]:
    now = clock.now()
    starts_at = col(ThemeDay.starts_at)
    stmt = select(ThemeDay, Branch.name).join(Branch, col(Branch.id) == ThemeDay.branch_id)
    only = g.admin.branch_filter()
    if only is not None:  # a secretary sees their own branch's theme days only
        stmt = stmt.where(ThemeDay.branch_id == only)
    if upcoming:
        stmt = stmt.where(starts_at >= now).order_by(starts_at)
    else:
        stmt = (stmt.where(starts_at < now, starts_at >= now - dt.timedelta(days=RECENT_DAYS))
                .order_by(starts_at.desc()))
    found = list(session.exec(stmt.limit(LIMIT)))
    counts = _counts(session, [e.id for e, _ in found])
    empty = {"going": 0, "leave": 0, "signed": 0, "late": 0}
    return [{"event": e, "branch": name, "status": texts.label("theme_day_status", e.status),
             "open": e.status in theme_day.OPEN and e.closed_at is None,
             "agenda": theme_day_agenda.agenda_text(e.agenda), **counts.get(e.id, empty)} for e, name in found]


@bp.get("/theme-days")
@area("branch")
def theme_days() -> ResponseReturnValue:
    return _listing()


def _listing(errors: dict[str, str] | None = None, keep_form: bool = True) -> ResponseReturnValue:
    """The page; after a refused create (or postpone: `postpone-<event id>`), with the form's values and the
    reason beside the field (400)."""
    with runtime().session() as s:
        upcoming, recent = _rows(s, True), _rows(s, False)
        branches = [b for b in s.exec(select(Branch).order_by(Branch.code)) if g.admin.sees_branch(b.id)]
    return render_template("admin/theme_days.html", upcoming=upcoming, recent=recent, branches=branches,
                           items=theme_day_agenda.ITEMS, recent_days=RECENT_DAYS, errors=errors or {},
                           form=request.form if errors and keep_form else {}), 400 if errors else 200


def agenda_form() -> tuple[str | None, str | None]:
    """(agenda, guests) from the form's 学会做工课 checkboxes with their notes and the guests field."""
    picked = request.form.getlist("agenda")
    agenda = theme_day_agenda.clean_agenda(
        [(item, request.form.get(f"agenda_note_{i}", "")) for i, item in enumerate(theme_day_agenda.ITEMS)
         if item in picked])
    return agenda, theme_day_agenda.clean_guests(request.form.get("guests"))


def _back() -> ResponseReturnValue:
    return redirect(url_for("admin.theme_days"))


def _form_text(name: str, limit: int) -> str:
    return " ".join(request.form.get(name, "").split())[:limit]


@bp.post("/theme-days")
@area("branch")
def theme_day_create() -> ResponseReturnValue:
    raw_branch = request.form.get("branch_id", "")
    place, topic = _form_text("place", 64), _form_text("topic", 200)
    missing = {name: f"请填写{label}。" for name, label, value in
               (("branch_id", "支部", raw_branch.isdigit()), ("place", "地点", place), ("topic", "主题", topic))
               if not value}
    if missing:
        return _listing(missing)
    agenda, guests = agenda_form()
    try:
        starts = theme_day_agenda.parse_when(request.form.get("date", "").strip(), request.form.get("time", "").strip())
    except ThemeDayError as exc:
        return _listing({"date": str(exc)})
    try:
        with runtime().write() as s:
            branch = s.get(Branch, int(raw_branch))
            if branch is None or not g.admin.sees_branch(branch.id):
                return not_found("没有这个支部。")
            assert branch.id is not None  # a row from the session
            if not theme_day.branch_members(s, branch.id):
                raise ThemeDayError(f"{branch.name}没有在册党员：主题党日请在有党员的支部发布"
                                    "（总支、党委请选下属支部）。")
            event, count = theme_day.create(s, runtime().config, g.admin.username, branch.id, starts, place, topic,
                                            agenda=agenda, guests=guests,
                                            online=True if request.form.get("online") == "on" else None)
            note = theme_day_agenda.off_rule_note(runtime().config, branch, event.starts_at)
            message = texts.t("theme_day.console_created", number=event.number, count=count)
    except ThemeDayError as exc:
        return _listing({"branch_id": str(exc)})
    flash(message + (f" {note}" if note else ""), "ok")
    return _back()


def _open_event(session: Session, event_id: int) -> ThemeDay | str | None:
    event = session.get(ThemeDay, event_id, with_for_update=True)
    if event is None or not g.admin.sees_branch(event.branch_id):
        return None  # another branch's event is none of a secretary's business: 404 like a missing one
    if event.status not in theme_day.OPEN or event.closed_at is not None:
        return texts.t("theme_day.closed", number=event.number, status=texts.label("theme_day_status", event.status))
    return event


@bp.post("/theme-days/<int:event_id>/postpone")
@area("branch")
def theme_day_postpone(event_id: int) -> ResponseReturnValue:
    try:
        starts = theme_day_agenda.parse_when(request.form.get("date", "").strip(), request.form.get("time", "").strip())
        with runtime().write() as s:
            event = _open_event(s, event_id)
            if event is None:
                return not_found("没有这个主题党日。")
            if isinstance(event, str):
                raise ThemeDayError(event)
            event, count = theme_day.reschedule(s, runtime().config, g.admin.username, event, starts)
            message = texts.t("theme_day.console_postponed", number=event.number, when=theme_day.when(event),
                              count=count)
    except ThemeDayError as exc:
        return _listing({f"postpone-{event_id}": str(exc)}, keep_form=False)
    flash(message, "ok")
    return _back()


@bp.post("/theme-days/<int:event_id>/cancel")
@area("branch")
def theme_day_cancel(event_id: int) -> ResponseReturnValue:
    with runtime().write() as s:
        event = _open_event(s, event_id)
        if event is None:
            return not_found("没有这个主题党日。")
        if isinstance(event, str):
            flash(event, "error")
            return _back()
        event, count = theme_day.drop(s, runtime().config, g.admin.username, event)
        message = texts.t("theme_day.console_cancelled", number=event.number, count=count)
    flash(message, "ok")
    return _back()
