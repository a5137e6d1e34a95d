"""The console blueprint and the guards every console request passes through.

`before_request` runs for every `/admin` URL: only the login pages and static files are open; everything
else needs a signed-in person (a page redirects to the login, a POST or JSON request gets 401) whose roles
(re-read on every request) reach the endpoint's area (else 403, see `bot.admin.principal`). Every POST,
the login form included, must carry the session's CSRF token (form field `csrf_token` or header
`X-CSRF-Token`), else 400. `after_request` adds the security headers.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from bot import clock
from bot.admin import auth
from bot.admin.principal import AREAS, Principal, console_member
from bot.models import AdminUser, Member
from bot.runtime import Runtime
from bot.services.console_sessions import still_valid

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

OPEN_ENDPOINTS = frozenset({"admin.login", "admin.static", "admin.login_wecom", "admin.login_wecom_callback",
                            "admin.login_demo"})
SESSION_HOURS = 12
MAX_UPLOAD = 20 * 1024 * 1024  # console uploads (a roster, a study file)
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def runtime() -> Runtime:
    return current_app.extensions["dangjian"]


def client_ip() -> str:
    return request.remote_addr or "-"


@bp.app_template_global("csrf_token")
def csrf_token() -> str:
    """The per-session CSRF token (created on first use); rotated by a login."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


NAV: list[tuple[str, str, str]] = [  # (endpoint, label, area): the pages in the top bar
    ("admin.dashboard", "概览", "any"), ("admin.members", "党员", "branch"), ("admin.theme_days", "主题党日", "branch"),
    ("admin.approvals_list", "待审", "branch"), ("admin.tickets_list", "问题建议", "branch"),
    ("admin.commitments_list", "承诺", "branch"), ("admin.points_table", "积分", "branch"),
    ("admin.study_library", "学习", "study"), ("admin.reviews_list", "述评", "global"),
    ("admin.branches", "支部", "global"), ("admin.deliveries", "投递", "global"), ("admin.audit_log", "审计", "global"),
]


@bp.app_context_processor
def nav_items() -> dict[str, Any]:
    return {"nav_items": NAV}


@bp.app_template_filter("admin_time")
def admin_time(moment: dt.datetime | None) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def console_body_limit() -> None:
    """App-level before_request, first of all: console requests may carry up to MAX_UPLOAD (a roster, a
    study file); the app's 64 KiB limit is for the callbacks."""
    if request.blueprint == "admin":
        request.max_content_length = MAX_UPLOAD


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    return bool(expected) and hmac.compare_digest(str(expected).encode(), given.encode())


def _load_principal() -> Principal | None:
    """The person of this session, if the session is still valid: not too old, the account or member still
    active, the same session version (logout, a password change, deactivation or loss of a role bump it);
    for an operator also the same password; for a member still a console role (re-read every request)."""
    login_at = session.get("login_at")
    if not isinstance(login_at, int | float) or clock.wall() - login_at > SESSION_HOURS * 3600:
        return None
    admin_id, member_id = session.get("admin_id"), session.get("member_id")
    if isinstance(member_id, int):
        with runtime().session() as s:
            member = s.get(Member, member_id)
        if not still_valid(member, session.get("member_sv")) or not console_member(member):
            return None
        assert member is not None
        return Principal.of_member(member)
    if not isinstance(admin_id, int):
        return None
    with runtime().session() as s:
        user = s.get(AdminUser, admin_id)
    if user is None or not still_valid(user, session.get("admin_sv")):
        return None
    fp = auth.fingerprint(runtime().config.app.secret_key, user.password_hash)
    if not hmac.compare_digest(fp, str(session.get("admin_fp", ""))):
        return None
    return Principal.of_admin(user)


def acting_member(session: Any) -> Member | None:
    """The roster member behind this console session (None for an operator account): the `actor` of the
    service functions the chat commands use too."""
    return session.get(Member, g.admin.id) if g.admin.kind == "member" else None


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.is_json or best == "application/json"


def safe_next(target: str | None) -> str:
    """Only a console path may follow the login (no open redirect)."""
    if target and target.startswith("/admin/") and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.dashboard")


def plain(message: str, status: int) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def problem(title: str, message: str, status: int, hint: str = "", back: str | None = None) -> Response:
    """A page that says what went wrong and where to go next (instead of a bare text response)."""
    target = back or safe_next(urlsplit(request.referrer).path if request.referrer else None)
    return Response(render_template("admin/problem.html", title=title, message=message, hint=hint, back=target),
                    status=status)


def not_found(message: str, back: str | None = None) -> Response:
    return problem("没有找到", message, 404, "可能已被删除，或不属于您可以管理的范围。", back)


def forbidden(message: str) -> Response:
    """The 403 page: what happened and what to do next."""
    return Response(render_template("admin/forbidden.html", message=message), status=403)


@bp.before_request
def guard() -> Any:
    g.admin = None
    if request.endpoint == "admin.static":
        return None
    if request.endpoint not in OPEN_ENDPOINTS:
        user = _load_principal()
        if user is None:
            if session.get("admin_id") is not None or session.get("member_id") is not None:
                session.clear()  # expired, logged out elsewhere, password or roles changed: start again
            if request.method not in ("GET", "HEAD") or _wants_json():
                return jsonify({"error": "login required"}), 401
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        g.admin = user
        if not user.may(AREAS.get(str(request.endpoint), "global")):
            return forbidden("您的角色不能打开这个页面。")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _csrf_ok():
        log.warning("console: CSRF check failed for %s from %s", request.path, client_ip())
        if _wants_json():
            return plain("CSRF 校验失败：请刷新页面后重试。", 400)
        return problem("请刷新页面", "CSRF 校验失败：页面已过期或在别处登录过。请返回上一页、刷新后重新提交。", 400)
    return None


@bp.after_request
def headers(response: Response) -> Response:
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = CSP
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response
