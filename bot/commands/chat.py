"""`dangjian say`: a message from the command line through the same pipeline as a callback."""

from __future__ import annotations

import uuid

import click
from sqlmodel import select

from bot import clock, inbound, intents, texts
from bot.cli import command, runtime
from bot.message import InboundMessage, normalise
from bot.models import Member
from handlers import build_router


# Any text passes through, also words that look like options ("扣分 m1 -2 原因").
@command("say", context_settings={"ignore_unknown_options": True})
@click.option("--user", "userid", required=True, help="roster userid of the sender")
@click.argument("words", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def say(ctx: click.Context, userid: str, words: tuple[str, ...]) -> None:
    """Send TEXT as USERID and print the bot's reply."""
    rt = runtime(ctx)
    with rt.session() as session:
        member = session.exec(select(Member).where(Member.userid == userid.lower())).first()
        active = member is not None and member.active
    if not active:
        click.echo(texts.t("roster.say_not_member", userid=userid))
        return
    intents.warm_up()
    sent = " ".join(words).strip()
    msg = InboundMessage(channel="console", sender=userid.lower(), msg_type="text", text=normalise(sent),
                         sent=sent, msg_id=f"say-{uuid.uuid4().hex}",
                         create_time=clock.timestamp())
    reply = inbound.handle(rt, build_router(), msg)
    if reply is None or reply.empty:
        click.echo("(无回复)")
        return
    click.echo(reply.text or reply.button)
