"""Replies longer than WeCom's 2,048 bytes go out one page at a time; `下一页` fetches the next.

`Router.dispatch` passes every reply through `fit`: a text within the limit is untouched; a longer one is
cut on line boundaries (a single overlong line by characters, never inside one) into pages that each end in
"第 i/n 页，回复「下一页」继续" (the last in "第 n/n 页（完）") and stay within `LIMIT` bytes of UTF-8. The
first page is the reply; the rest wait in `reply_pages`, one row per member: only the member's last paged
reply counts, and it expires `EXPIRES` after the last page shown (by the bot clock). A reply about an
anonymous report (`ctx.sealed`) is never stored against the member: it answers the first page only.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot import clock, texts
from bot.message import MAX_TEXT_BYTES, Reply
from bot.models import ReplyPages
from bot.services.roster.forget import Forgotten

if TYPE_CHECKING:
    from bot.models import Member
    from bot.router import Context

LIMIT = MAX_TEXT_BYTES  # bytes of UTF-8: WeCom's limit for text and markdown
EXPIRES = dt.timedelta(minutes=10)
SEPARATOR = "\n"  # between a page's text and its footer


def size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def footer(index: int, total: int) -> str:
    key = "paging.last" if index == total else "paging.more"
    return texts.t(key, index=index, total=total)


def _chunks(text: str, budget: int) -> list[str]:
    """Consecutive pieces of `text` (joined they are `text`), each at most `budget` bytes, cut after a
    newline where possible, else between characters."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    chunks: list[str] = []
    current, used = "", 0
    for line in lines:
        need = size(line)
        if used + need <= budget:
            current, used = current + line, used + need
            continue
        if current:
            chunks.append(current)
            current, used = "", 0
        if need <= budget:
            current, used = line, need
            continue
        for char in line:  # one line longer than a page: cut between characters
            width = size(char)
            if used + width > budget:
                chunks.append(current)
                current, used = "", 0
            current, used = current + char, used + width
    if current:
        chunks.append(current)
    return chunks


def split(text: str, limit: int = LIMIT) -> list[str]:
    """The pages of `text`: `[text]` when it fits, else chunks each followed by SEPARATOR and a footer,
    every page at most `limit` bytes."""
    if size(text) <= limit:
        return [text]
    digits = 2
    while True:
        widest = 10 ** digits - 1
        reserve = size(SEPARATOR) + max(size(footer(widest - 1, widest)), size(footer(widest, widest)))
        chunks = _chunks(text, limit - reserve)
        if len(chunks) <= widest:
            break
        digits += 1
    total = len(chunks)
    return [chunk + SEPARATOR + footer(i, total) for i, chunk in enumerate(chunks, start=1)]


def fit(ctx: Context, reply: Reply) -> Reply:
    """The reply as sent: its first page, the other pages kept for the member's `下一页`."""
    pages = split(reply.text)
    if len(pages) == 1:
        return reply
    if ctx.sealed or ctx.member is None or ctx.member.id is None:
        note = texts.t("paging.not_kept", total=len(pages))
        head = _chunks(reply.text, LIMIT - size(SEPARATOR + note))[0]
        return Reply(text=head + SEPARATOR + note, button=reply.button)
    _store(ctx.session, ctx.member.id, pages[1:])
    return Reply(text=pages[0], button=reply.button)


def _store(session: Session, member_id: int, pages: list[str]) -> None:
    """Replace the member's waiting pages (an upsert: two long replies at once never collide)."""
    now = clock.now()
    session.execute(delete(ReplyPages).where(col(ReplyPages.created_at) < now - EXPIRES))  # stale, anyone's
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ReplyPages).values(member_id=member_id, pages=json.dumps(pages, ensure_ascii=False),
                                     created_at=now)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["member_id"], set_={"pages": stmt.excluded.pages, "created_at": stmt.excluded.created_at}))


def next_page(session: Session, member: Member) -> str:
    """The next page of the member's last paged reply, or a message saying there is none."""
    stmt = select(ReplyPages).where(ReplyPages.member_id == member.id).with_for_update()
    stored = session.exec(stmt).first()  # locked: two quick 下一页 never get the same page
    if stored is None:
        return texts.t("paging.none")
    if stored.created_at is None or clock.now() - stored.created_at > EXPIRES:
        session.delete(stored)
        return texts.t("paging.expired", minutes=int(EXPIRES.total_seconds() // 60))
    pages = json.loads(stored.pages)
    page, rest = pages[0], pages[1:]
    if rest:
        stored.pages, stored.created_at = json.dumps(rest, ensure_ascii=False), clock.now()
        session.add(stored)
    else:
        session.delete(stored)
    return page


def scrub_pages(session: Session, gone: Forgotten) -> None:
    """`forget`: the member's waiting pages, and anyone's that name them, are dropped."""
    session.execute(delete(ReplyPages).where(or_(
        col(ReplyPages.member_id) == gone.member_id,
        *(col(ReplyPages.pages).contains(word, autoescape=True) for word in (gone.name, gone.userid) if word))))
