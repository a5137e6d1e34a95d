"""Console sign-in through WeCom, and the demo's one-time local links.

`GET /admin/login/wecom` sends the browser to WeCom's web login: the OAuth2 page inside the WeCom client
(User-Agent contains `wxwork`, `scope=snsapi_base`), the QR login elsewhere (`login_type=CorpApp`). The
`state` (32 hex characters) is kept in the session, used once and valid 10 minutes. The callback resolves
the code through `/cgi-bin/auth/getuserinfo` and signs in an active roster member with a console role;
anybody else gets the 403 page. `GET /admin/login/demo?token=…` exists under `dangjian demo` only
(`app.extensions["dangjian.demo_logins"]`), from 127.0.0.1 only, each token once.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import requests
from flask import current_app, redirect, request, session
from flask.typing import ResponseReturnValue
from sqlmodel import select

from bot import audit, clock
from bot.admin.base import bp, client_ip, csrf_token, forbidden, runtime, safe_next
from bot.admin.principal import console_member
from bot.channels.platform import PlatformError
from bot.models import Member

log = logging.getLogger(__name__)

STATE_SECONDS = 600
CALLBACK_PATH = "/admin/login/wecom/callback"
MSG_NO_ROLE = "您不在党员名册中，或没有管理后台的角色（书记、副书记、党委委员、编辑、审核、管理员）。"
MSG_STATE = "登录链接已失效或已使用，请重新点击“企业微信登录”。"
MSG_FAILED = "企业微信登录没有成功，请稍后重试或改用账号密码登录。"


def _redirect_uri() -> str:
    return runtime().config.app.public_url.rstrip("/") + CALLBACK_PATH


def oauth_url(redirect_uri: str, state: str) -> str:
    """WeCom's OAuth2 page inside the client (`snsapi_base`): it comes back to `redirect_uri` with a code."""
    cfg = runtime().config.wecom
    query = urlencode({"appid": cfg.corp_id, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "snsapi_base", "state": state, "agentid": cfg.agent_id})
    return f"{cfg.oauth_url}?{query}#wechat_redirect"


def login_url(state: str, inside_wecom: bool) -> str:
    cfg = runtime().config.wecom
    if inside_wecom:
        return oauth_url(_redirect_uri(), state)
    query = urlencode({"login_type": "CorpApp", "appid": cfg.corp_id, "agentid": cfg.agent_id,
                       "redirect_uri": _redirect_uri(), "state": state})
    return f"{cfg.sso_url}?{query}"


def issue_state(name: str = "wecom") -> str:
    """A new OAuth `state` (32 hex characters) bound to this session under `name`, with its time."""
    state = secrets.token_hex(16)
    session[f"{name}_state"] = state
    session[f"{name}_state_at"] = int(clock.wall())
    return state


def take_state(given: str, name: str = "wecom") -> bool:
    """The session's state matches, is fresh, and is spent now whatever the outcome."""
    expected = session.pop(f"{name}_state", None)
    issued = session.pop(f"{name}_state_at", 0)
    fresh = isinstance(issued, int) and clock.wall() - issued <= STATE_SECONDS
    return (isinstance(expected, str) and len(given) == 32 and fresh
            and hmac.compare_digest(expected.encode(), given.encode()))


def userid_of(answer: dict[str, Any]) -> str:
    """The corp userid in a getuserinfo answer ("" for an openid: not a member of the corp)."""
    return str(answer.get("userid") or answer.get("UserId") or "")


@bp.get("/login/wecom")
def login_wecom() -> ResponseReturnValue:
    if not runtime().config.wecom.enabled:
        return forbidden("本系统没有配置企业微信（[wecom] corp_id），请用账号密码登录。")
    state = issue_state()
    session["wecom_next"] = safe_next(request.args.get("next"))
    return redirect(login_url(state, "wxwork" in request.headers.get("User-Agent", "").lower()))


def resolve_code(code: str) -> dict[str, Any]:
    """WeCom's answer for the code: `userid` for a member of the corp, `openid` for anybody else."""
    from bot.channels.platform import wecom_client

    api = wecom_client(runtime())
    try:
        answer = api.get("auth/getuserinfo", {"code": code})
    finally:
        api.close()
    return answer if isinstance(answer, dict) else {}


def sign_in(member: Member, how: str) -> ResponseReturnValue:
    """Start a console session for a roster member (nothing from before survives)."""
    target = session.get("wecom_next") or safe_next(None)
    session.clear()
    session["member_id"] = member.id
    session["member_sv"] = member.session_version
    session["login_at"] = int(clock.wall())
    csrf_token()
    with runtime().session() as s:
        audit.record(s, member.userid, "console.login", target=f"member:{member.id}",
                     detail=f"{how}; ip={client_ip()}")
    return redirect(str(target))


def _refuse(detail: str) -> ResponseReturnValue:
    with runtime().session() as s:
        audit.record(s, "anonymous", "console.login_refused", target="wecom", detail=f"{detail}; ip={client_ip()}")
    return forbidden(MSG_NO_ROLE)


def _member(userid: str) -> Member | None:
    with runtime().session() as s:
        return s.exec(select(Member).where(Member.userid == userid.strip().lower())).first()


@bp.get("/login/wecom/callback")
def login_wecom_callback() -> ResponseReturnValue:
    code = request.args.get("code", "")[:512]
    if not take_state(request.args.get("state", "")[:64]) or not code:
        return forbidden(MSG_STATE)
    try:
        answer = resolve_code(code)
    except (PlatformError, requests.RequestException, ValueError) as exc:
        log.warning("console: WeCom getuserinfo failed: %s", type(exc).__name__)
        return forbidden(MSG_FAILED)
    userid = userid_of(answer)
    if not userid:
        return _refuse("openid" if answer.get("openid") or answer.get("OpenId") else "no userid")
    member = _member(userid)
    if not console_member(member):
        return _refuse("stranger" if member is None else f"member:{member.id} without a console role")
    assert member is not None
    return sign_in(member, "wecom")


@bp.get("/login/demo")
def login_demo() -> ResponseReturnValue:
    tokens: dict[str, str] | None = current_app.extensions.get("dangjian.demo_logins")
    if tokens is None or client_ip() != "127.0.0.1":
        return forbidden("演示登录链接只在本机运行的 dangjian demo 中有效。")
    userid = tokens.pop(request.args.get("token", "")[:64], None)
    member = _member(userid) if userid else None
    if not console_member(member):
        return forbidden("演示登录链接已使用或无效：每个链接只能用一次，重启 dangjian demo 可得到新链接。")
    assert member is not None
    return sign_in(member, "demo link")


def demo_links(base: str, userids: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """One-time tokens for the demo roles: (token -> userid, the banner lines)."""
    tokens: dict[str, str] = {}
    lines = []
    for label, userid in userids.items():
        token = secrets.token_urlsafe(24)
        tokens[token] = userid
        lines.append(f"  {label}: {base}/admin/login/demo?token={token}")
    return tokens, lines
