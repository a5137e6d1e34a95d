"""绑定 工号 手机后四位: links an Official Account openid to a roster member."""

import datetime as dt
import hashlib

from sqlmodel import col, func, select

from bot import audit, clock, texts
from bot.models import AuditLog, Member
from bot.router import Arg, Code, Context, Router

MAX_FAILURES = 5  # wrong guesses per openid per day: the last four phone digits are easy to guess


def bind(ctx: Context, userid: str, last4: str) -> str:
    """绑定 工号 手机后四位 — 公众号用户关联党员身份"""
    if ctx.message.channel != "wechat":
        return texts.t("bind.wecom_only")
    if ctx.member is not None:
        return texts.t("bind.already", name=ctx.member.name)
    userid = userid.lower()
    tag = hashlib.sha256(ctx.message.sender.encode()).hexdigest()[:16]
    since = clock.now() - dt.timedelta(days=1)
    failures = ctx.session.exec(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "bind_failed", AuditLog.detail == tag, col(AuditLog.at) >= since)).one()
    if failures >= MAX_FAILURES:
        return texts.t("bind.locked")
    member = ctx.session.exec(select(Member).where(Member.userid == userid)).first()
    if member is None or not member.active or not (member.phone or "").endswith(last4):
        audit.record(ctx.session, "wechat", "bind_failed", userid, tag)
        return texts.t("bind.failed")
    if member.openid and member.openid != ctx.message.sender:
        return texts.t("bind.taken")
    member.openid = ctx.message.sender
    ctx.session.add(member)
    audit.record(ctx.session, member.userid, "bind_openid", member.userid, "")
    return texts.t("bind.done", name=member.name)


def register(router: Router) -> None:
    router.command("绑定", bind, strangers=True, listed=False, example="zhangwei 1234",  # offered to OA strangers
                   args=(Arg("工号", "userid"), Code("手机后四位", "last4")))
