"""Long replies go out in pages of at most 2,048 bytes; 下一页 walks them (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot import clock, paging
from bot.message import InboundMessage, Reply
from bot.models import Member, ReplyPages
from bot.router import Context
from bot.services import approvals
from bot.services.roster.forget import forget_member
from tests.callbacks import say_wecom
from tests.conftest import DEFAULT_NOW

FOOTER = re.compile(r"\n第 (\d+)/(\d+) 页(，回复「下一页」继续|（完）)$")


def body(page: str, index: int, total: int) -> str:
    tail = paging.SEPARATOR + paging.footer(index, total)
    assert page.endswith(tail)
    return page[: -len(tail)]


def check_pages(text: str, limit: int) -> None:
    pages = paging.split(text, limit)
    assert all(paging.size(p) <= limit for p in pages)
    if paging.size(text) <= limit:
        assert pages == [text]
        return
    assert len(pages) > 1
    assert "".join(body(p, i, len(pages)) for i, p in enumerate(pages, start=1)) == text


lines = st.lists(st.text(max_size=300), max_size=60).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=3000), lines), limit=st.sampled_from([120, 500, 2048]))
def test_any_text_pages_within_the_limit_and_joins_back(text, limit):
    check_pages(text, limit)


def test_pages_cut_on_lines_and_long_lines_between_characters():
    text = "\n".join(f"第{i}行" + "字" * 100 for i in range(40))  # ~12 KB of three-byte characters
    pages = paging.split(text)
    assert len(pages) > 1
    for i, page in enumerate(pages[:-1], start=1):
        assert body(page, i, len(pages)).endswith("\n")  # cut after a whole line
        assert page.endswith("，回复「下一页」继续")
    assert pages[-1].endswith(f"第 {len(pages)}/{len(pages)} 页（完）")
    one_line = "党" * 2000 + "😀" * 300  # no newline at all, 3- and 4-byte characters
    check_pages(one_line, 2048)
    assert len(paging.split(one_line)) == 4


def say_all(client, user: str, first: str) -> list[str]:
    pages = [say_wecom(client, user, first)]
    while "回复「下一页」继续" in pages[-1]:
        pages.append(say_wecom(client, user, "下一页"))
    return pages


def test_pending_list_of_thirty_requests_is_paged_and_walked(app_rt):
    client, rt = app_rt
    with rt.session() as s:
        m1 = s.exec(select(Member).where(Member.userid == "m1")).one()
        numbers = [approvals.create(s, "points", m1, f"党员乙（m1）+1 分：{i} " + "协助组织学习" * 30,
                                    needs_role="committee", requested_by="sec").number for i in range(30)]
    pages = say_all(client, "cw", "待审")
    assert len(pages) >= 3
    total = len(pages)
    for i, page in enumerate(pages, start=1):
        assert len(page.encode()) <= 2048
        m = FOOTER.search(page)
        assert m is not None
        assert (int(m.group(1)), int(m.group(2))) == (i, total)
    assert "下一页" not in pages[-1]
    joined = "".join(body(p, i, total) for i, p in enumerate(pages, start=1))
    assert joined.startswith("待审批 30 项：")
    assert [int(n) for n in re.findall(r"^#(\d+) ", joined, re.M)] == numbers
    assert joined.rstrip("\n").endswith("回复「通过 编号」批准，或「驳回 编号 原因」驳回。")
    assert "没有待看的下一页" in say_wecom(client, "cw", "下一页")


def test_only_the_last_paged_reply_counts_and_it_expires(app_rt):
    client, rt = app_rt
    with rt.session() as s:
        m1 = s.exec(select(Member).where(Member.userid == "m1")).one()
        for i in range(30):
            approvals.create(s, "points", m1, f"第{i}项" + "长" * 150, needs_role="committee", requested_by="sec")
    first = say_wecom(client, "cw", "待审")
    assert "第 1/" in first
    assert "仅限支部书记使用" == say_wecom(client, "m1", "待审")  # a short reply leaves the pages alone
    assert "第 2/" in say_wecom(client, "cw", "下一页")
    assert "第 1/" in say_wecom(client, "cw", "待审")  # a new paged reply replaces the old one
    assert "第 2/" in say_wecom(client, "cw", "下一页")
    clock.freeze(DEFAULT_NOW + dt.timedelta(minutes=11))
    assert "超过 10 分钟" in say_wecom(client, "cw", "下一页")
    assert "没有待看的下一页" in say_wecom(client, "cw", "下一页")
    with rt.session() as s:
        assert s.exec(select(ReplyPages)).all() == []


def test_help_stays_one_page_and_lists_next_page(app_rt):
    client, _ = app_rt
    for user in ("m1", "sec", "cw"):
        reply = say_wecom(client, user, "帮助")
        assert len(reply.encode()) <= 2048
        assert "回复「下一页」继续" not in reply
        assert "下一页" in reply
    assert "10 分钟内有效" in say_wecom(client, "m1", "帮助 下一页")


def test_sealed_reply_keeps_no_pages_and_forget_drops_them(rt):
    from tests.helpers import add_roster

    add_roster(rt)
    long_text = "匿名事项" * 600  # one line: the first page is filled to the byte
    msg = InboundMessage(channel="wecom", sender="m1", msg_type="text", text="进度 1")
    with rt.session() as s:
        m1 = s.exec(select(Member).where(Member.userid == "m1")).one()
        sealed = paging.fit(Context(runtime=rt, session=s, message=msg, member=m1, sealed=True), Reply(long_text))
        assert len(sealed.text.encode()) <= 2048
        assert "其余内容不保存" in sealed.text
        assert s.exec(select(ReplyPages)).all() == []
        sec = s.exec(select(Member).where(Member.userid == "sec")).one()
        for who in (m1, sec):  # the secretary's pages name 党员乙 too
            paging.fit(Context(runtime=rt, session=s, message=msg, member=who), Reply(long_text + "\n党员乙"))
        assert len(s.exec(select(ReplyPages)).all()) == 2
        forget_member(s, "m1", "test")
        assert s.exec(select(ReplyPages)).all() == []
