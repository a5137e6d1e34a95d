"""Chat input as members really type it (CONTRACT "Chat input"): questions answer how and never act, free
text goes to an intent (bot/intents.py; only check-in and 参加 act), other message types get a short hint."""

import re

from bot import intents, texts
from bot.router import Context, Hit, Router, Rule
from bot.router.rules import HIT
from handlers import general, study, theme_day

# Right after a command word with no separator, these make the rest a question about the command, not its
# argument: 「请假要写原因吗」「补签需要什么」「签到能补吗」.
_ABOUT = re.compile(r"要|需要|能|可以|该|得|用|是不是|有没有|会不会|行不行|可不可以|在哪|是什么|是啥|有什么")
MEDIA = ("image", "voice", "video", "shortvideo", "location", "link", "file")


class Asking(Rule):
    """A question (intents.is_question) with no argument: a text that is a command with an argument once the
    question words are gone (「反映 路灯坏了怎么办」) is that command (matched by the command table)."""

    def __call__(self, ctx: Context) -> Hit | None:
        if ctx.message.msg_type != "text" or not intents.is_question(ctx.text):
            return None
        if ctx.text.startswith(("怎么", "如何", "怎样")) or ctx.router is None:
            return HIT
        rest = intents.strip_question(ctx.text)
        found = ctx.router.table.match(rest)
        if found is None or not found.args:
            return HIT
        tail = rest[len(found.word):]
        if tail[:1] not in ("", " ", ":", ",", "：", "，") and _ABOUT.match(tail):
            return HIT  # 「请假要写原因吗」 asks about 请假
        return None


class FreeText(Rule):
    """Any text no command matched (this route comes last)."""

    def __call__(self, ctx: Context) -> Hit | None:
        return HIT if ctx.message.msg_type == "text" and ctx.text else None


class Media(Rule):
    def __call__(self, ctx: Context) -> Hit | None:
        return HIT if ctx.message.msg_type in MEDIA else None


def _topic_lines(ctx: Context, rest: str) -> list[str]:
    """Help lines of the command the question is about: a command word it names, else its intent's."""
    router = ctx.router
    assert router is not None  # Router.dispatch sets it
    commands = router.commands(ctx.member)
    named = sorted((w for w in router.command_words(ctx.member) if w in rest), key=len, reverse=True)
    if not named:
        intent = intents.classify(rest) if rest else None
        named = [intents.command_for(intent)] if intent and intent != intents.QUESTION else []
    for word in named:
        found = [c.help for c in commands if word in c.words or word in general.command_of(c.help)]
        if found:
            return found[:4]
    return []


def question(ctx: Context) -> str:
    """怎么打卡 / 请假怎么弄 / 签到吗 … — the usage of the command asked about; never acts."""
    rest = intents.strip_question(ctx.text)
    lines = _topic_lines(ctx, rest)
    if lines:
        return texts.t("chat.how", lines="\n".join(f"· {line}" for line in lines))
    if not rest or intents.classify(rest) == "help" or "用" in rest:
        return general.show_help(ctx)
    return texts.t("chat.how_none")


def free_text(ctx: Context) -> str:
    """Free text: 「学完了」 checks in, 「我参加」 attends; other intents answer with the command to send."""
    intent = intents.classify(ctx.text)
    if intent == "checkin":
        return study.checkin(ctx)
    if intent == "attend":
        return theme_day.attend(ctx)
    if intent == "help":
        return general.show_help(ctx)
    if intent == intents.QUESTION:
        return question(ctx)
    held = intents.held_back(ctx.text)
    if held is not None:  # near a check-in or 参加 but not clearly one: say what to send, do nothing
        return texts.t(f"chat.send_{held}")
    if intent is not None:
        return texts.t(f"chat.send_{intent}")
    return general.unknown(ctx)


def media(ctx: Context) -> str:
    """An image, voice, video, location, link or file: what to send instead."""
    kind = {"shortvideo": "video"}.get(ctx.message.msg_type, ctx.message.msg_type)
    return texts.t(f"media.{kind}")


def register_guards(router: Router) -> None:
    """Before the command table: a question never reaches the command it asks about; media is never a command."""
    router.guard(Asking(), question)
    router.guard(Media(), media)


def register_last(router: Router) -> None:
    """After every command and event: free text."""
    router.add(FreeText(), free_text)
