"""`GET /checkin/<N>?c=<code>&t=<slot>`: sign-in from the room's QR code (shown by the console's sign-in
screen). The member is identified through WeCom's OAuth2 login (`snsapi_base`, state bound to the session,
single use, valid 10 minutes, as for the console login) and signed in by `theme_day.signin.sign_in`, the
same rules as `签到 码` (late flag, wrong-code limit).
The QR code changes every 30 seconds: `t` is the time slot signed with `secret_key`, honoured for
2 minutes, so a photo of the screen passed around later does not work.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import requests
from flask import Blueprint, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlmodel import select

from bot import clock, wording
from bot.channels.platform import PlatformError
from bot.models import Member, ThemeDay
from bot.runtime import Runtime
from bot.services.theme_day import core as theme_day
from bot.services.theme_day import signin as theme_day_signin
from bot.services.theme_day.agenda import ThemeDayError

bp = Blueprint("checkin", __name__, template_folder="admin/templates")
SLOT_SECONDS = 30
SLOTS_HONOURED = 4


def _runtime() -> Runtime:
    return current_app.extensions["dangjian"]


def _sign(number: int, slot: int, key: str) -> str:
    return hmac.new(key.encode(), f"checkin:{number}:{slot}".encode(), hashlib.sha256).hexdigest()[:12]


def slot_token(number: int) -> str:
    slot = int(clock.wall() // SLOT_SECONDS)
    return f"{slot}.{_sign(number, slot, _runtime().config.app.secret_key)}"


def _fresh(number: int, token: str) -> bool:
    raw_slot, _, sig = token.partition(".")
    if not raw_slot.isdigit():
        return False
    slot = int(raw_slot)
    now = int(clock.wall() // SLOT_SECONDS)
    good = hmac.compare_digest(sig.encode(), _sign(number, slot, _runtime().config.app.secret_key).encode())
    return good and now - SLOTS_HONOURED < slot <= now


def _answer(message: str, ok: bool, status: int = 200) -> ResponseReturnValue:
    return render_template("admin/checkin.html", message=message, ok=ok), status


@bp.get("/checkin/<int:number>")
def checkin(number: int) -> ResponseReturnValue:
    from bot.admin.wecom_login import issue_state, oauth_url, resolve_code, take_state, userid_of

    rt = _runtime()
    code, token = request.args.get("c", "")[:8], request.args.get("t", "")[:40]
    if not _fresh(number, token):
        return _answer("二维码已过期，请重新扫描会场屏幕上的二维码，或回复「签到 码」。", False, 400)
    if not rt.config.wecom.enabled:
        return _answer("本系统没有配置企业微信，请在企业微信里回复「签到 码」签到。", False, 403)
    wecom_code, state = request.args.get("code", "")[:512], request.args.get("state", "")[:64]
    if not wecom_code:
        back = f"{rt.config.app.public_url.rstrip('/')}/checkin/{number}?{urlencode({'c': code, 't': token})}"
        return redirect(oauth_url(back, issue_state("checkin")))
    if not take_state(state, "checkin"):
        return _answer("签到链接已使用或已失效，请重新扫描二维码。", False, 400)
    try:
        userid = userid_of(resolve_code(wecom_code))
    except (PlatformError, requests.RequestException, ValueError):
        return _answer("企业微信暂时无法确认您的身份，请回复「签到 码」签到。", False, 502)
    with rt.write() as s:
        member = s.exec(select(Member).where(Member.userid == userid.lower())).first() if userid else None
        if member is None or not member.active:
            return _answer("您不在党员名册中，无法签到。", False, 403)
        event = s.exec(select(ThemeDay).where(ThemeDay.number == number)).first()
        if event is None or theme_day.current(s, rt.config, member.branch_id) is not event:
            return _answer(f"#{number} 不是您所在支部当前的主题党日。", False, 400)
        try:
            return _answer(wording.signed_in(theme_day_signin.sign_in(s, rt.config, member, code)), True)
        except ThemeDayError as exc:
            return _answer(str(exc), False, 400)
