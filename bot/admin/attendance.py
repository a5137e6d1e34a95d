"""A theme day's attendance sheet (`/admin/theme-days/<id>`) with 补签到 and 准假 through
`theme_day_fix` (the chat's rules: the member's branch, never oneself, points corrected after closing), and
the room's sign-in screen (`/admin/theme-days/<id>/screen`): the 4-digit code beside a QR code that changes
every 30 seconds and opens `{public_url}/checkin/<N>?c=<code>&t=<slot token>` (see `bot.checkin_web`)."""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlmodel import Session, col, select

from bot import clock, wording
from bot.admin.base import acting_member, bp, runtime
from bot.admin.principal import area
from bot.admin.tables import download, export_url, wants_export
from bot.admin.theme_days import agenda_form
from bot.checkin_web import slot_token
from bot.models import Attendance, Member, ThemeDay
from bot.refusal import Refusal
from bot.services.theme_day import agenda as theme_day_agenda
from bot.services.theme_day import core as theme_day
from bot.services.theme_day import edit as theme_day_edit
from bot.services.theme_day import fix as theme_day_fix
from bot.services.theme_day import signin as theme_day_signin
from bot.services.theme_day.agenda import ThemeDayError

RSVP = {"going": "参加", "leave": "请假", "leave_pending": "请假待批", "leave_rejected": "请假未批"}
RESULT = {"present": "出席", "late": "迟到", "excused": "准假", "absent": "缺席"}
HEADER = ("工号", "姓名", "回复", "签到时间", "迟到", "结果")


def _event(session: Session, event_id: int) -> ThemeDay:
    event = session.get(ThemeDay, event_id)
    if event is None or not g.admin.sees_branch(event.branch_id):
        abort(404)
    return event


def _sheet(session: Session, event: ThemeDay) -> list[dict[str, Any]]:
    rows = {a.member_id: a for a in session.exec(select(Attendance).where(Attendance.event_id == event.id))}
    people = theme_day.branch_members(session, event.branch_id)
    people += [m for m in session.exec(select(Member).where(col(Member.id).in_(list(rows))))
               if m not in people]
    out = []
    for m in people:
        a = rows.get(m.id) if m.id is not None else None
        out.append({"userid": m.userid, "name": m.name, "rsvp": RSVP.get(a.rsvp or "", "") if a else "",
                    "signed": clock.local(a.signed_at).strftime("%H:%M") if a and a.signed_at else "",
                    "late": bool(a and a.late), "result": RESULT.get(a.result or "", "") if a else ""})
    return out


def _page(event_id: int, errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    with runtime().session() as s:
        event = _event(s, event_id)
        sheet = _sheet(s, event)
        can_act = acting_member(s) is not None
    if wants_export():
        return download(f"#{event.number}出勤", HEADER, [(r["userid"], r["name"], r["rsvp"], r["signed"],
                                                          "是" if r["late"] else "", r["result"]) for r in sheet])
    notes = dict(part.partition(":")[::2] for part in (event.agenda or "").split(";") if part)
    return render_template("admin/attendance.html", event=event, sheet=sheet, can_act=can_act,
                           errors=errors or {}, form=request.form, when=theme_day.when(event),
                           items=theme_day_agenda.ITEMS, notes=notes, export=export_url(),
                           open=event.status in theme_day.OPEN and event.closed_at is None), status


@bp.get("/theme-days/<int:event_id>")
@area("branch")
def attendance_sheet(event_id: int) -> ResponseReturnValue:
    return _page(event_id)


@bp.post("/theme-days/<int:event_id>/fix")
@area("branch")
def attendance_fix(event_id: int) -> ResponseReturnValue:
    userid = request.form.get("userid", "").strip()[:64]
    reason = " ".join(request.form.get("reason", "").split())[:200]
    excuse = request.form.get("action") == "excuse"
    if excuse and not reason:
        return _page(event_id, {userid: "准假须写明原因。"}, 400)
    try:
        with runtime().write() as s:
            event = _event(s, event_id)
            actor = acting_member(s)
            if actor is None:
                raise ThemeDayError("运维账号不能补签到或准假：请用企业微信登录，以书记身份操作。")
            cfg = runtime().config
            event = theme_day_fix.event_for(s, actor, event.branch_id, event.number)
            member = theme_day_fix.member_for(s, actor, event, userid, chosen=True)
            if excuse:
                message = wording.correction(theme_day_fix.excuse(s, cfg, actor, event, member, reason))
            else:
                message = wording.correction(theme_day_fix.manual_sign_in(s, cfg, actor, event, member))
    except Refusal as exc:
        return _page(event_id, {userid: str(exc)}, 400)
    flash(message, "ok")
    return redirect(url_for("admin.attendance_sheet", event_id=event_id))


@bp.post("/theme-days/<int:event_id>/agenda")
@area("branch")
def theme_day_agenda_edit(event_id: int) -> ResponseReturnValue:
    """议程 and 嘉宾 of an announced theme day (theme_day_edit: audited, the branch told)."""
    agenda, guests = agenda_form()
    try:
        with runtime().write() as s:
            event = _event(s, event_id)
            count = theme_day_edit.edit(s, runtime().config, g.admin.username, event, agenda, guests)
    except ThemeDayError as exc:
        return _page(event_id, {"": str(exc)}, 400)
    flash(f"议程已保存，已通知 {count} 名党员。" if count else "议程没有变化。", "ok")
    return redirect(url_for("admin.attendance_sheet", event_id=event_id))


def qr_svg(text: str) -> Markup:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False, svgns=True, omitsize=True,
                                     title="签到二维码")
    return Markup(out.getvalue().decode("utf-8"))


@bp.get("/theme-days/<int:event_id>/screen")
@area("branch")
def signin_screen(event_id: int) -> ResponseReturnValue:
    cfg = runtime().config
    with runtime().write() as s:
        event = _event(s, event_id)
        if theme_day.current(s, cfg, event.branch_id) is not event or event.closed_at is not None:
            flash("这个主题党日现在不能签到（已结束、已取消，或本支部还有更早的一次）。", "error")
            return redirect(url_for("admin.attendance_sheet", event_id=event_id))
        code = theme_day_signin.signin_code(s, cfg, event.branch_id).code  # the same code as 签到码 (made on first use)
        number, topic = event.number, event.topic
    link = f"{cfg.app.public_url.rstrip('/')}/checkin/{number}?c={code}&t={slot_token(number)}"
    return render_template("admin/signin_screen.html", code=code, number=number, topic=topic, qr=qr_svg(link),
                           link=link)
