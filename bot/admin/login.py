"""`/admin/login` and `/admin/logout`: every attempt, success, refusal and logout is audited."""

from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import select

from bot import audit, clock
from bot.admin import auth
from bot.admin.base import bp, client_ip, csrf_token, runtime, safe_next
from bot.admin.principal import area
from bot.admin.throttle import WINDOW_SECONDS, LoginThrottle
from bot.models import AdminUser
from bot.services.console_sessions import end_admin_sessions, end_member_sessions

MSG_BAD = "用户名或密码错误。"
MSG_EMPTY = "请输入用户名和密码。"
MSG_THROTTLED = f"登录失败次数过多，请 {WINDOW_SECONDS // 60} 分钟后再试。"


def _form(error: str = "", status: int = 200, username: str = "") -> ResponseReturnValue:
    return render_template("admin/login.html", error=error, username=username,
                           next=request.values.get("next", "")), status


def _audit(actor: str, action: str, username: str, detail: str = "") -> None:
    with runtime().session() as s:
        audit.record(s, actor, action, target=f"admin:{username}",
                     detail=f"ip={client_ip()}" + (f"; {detail}" if detail else ""))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return _form()
    username = auth.normalise_username(request.form.get("username", ""))[:64]
    password = request.form.get("password", "")
    if not username or not password:
        return _form(MSG_EMPTY, 400, username)
    rt = runtime()
    ip = client_ip()
    throttle = LoginThrottle(rt)
    if not throttle.attempt(username, ip):  # counted before the check: concurrent guesses cannot overrun it
        _audit("anonymous", "admin.login_throttled", username)
        return _form(MSG_THROTTLED, 429, username)
    with rt.session() as s:
        user = s.exec(select(AdminUser).where(AdminUser.username == username)).first()
    ok = auth.verify(user.password_hash if user else None, password)
    if user is None or user.id is None or not ok or not user.active:
        reason = "unknown user" if user is None else "wrong password" if not ok else "deactivated"
        _audit("anonymous", "admin.login_failed", username, reason)
        return _form(MSG_BAD, 401, username)
    throttle.succeeded(username, ip)
    session.clear()  # no session fixation: nothing from before the login survives, CSRF token included
    session["admin_id"] = user.id
    session["admin"] = user.username
    session["admin_fp"] = auth.fingerprint(rt.config.app.secret_key, user.password_hash)
    session["admin_sv"] = user.session_version
    session["login_at"] = int(clock.wall())
    csrf_token()
    _audit(user.username, "admin.login", username)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
@area("any")
def logout() -> ResponseReturnValue:
    """Ends every session of this person: the version in any copy of the cookie no longer matches."""
    name = g.admin.username
    with runtime().write() as s:
        if g.admin.kind == "admin":
            end_admin_sessions(s, g.admin.id)
        else:
            end_member_sessions(s, [g.admin.id])
    session.clear()
    _audit(str(name), "admin.logout", str(name))
    return redirect(url_for("admin.login"))
