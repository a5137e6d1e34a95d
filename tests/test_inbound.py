"""The shared inbound pipeline: slow handlers, concurrent retries, Redis dedup, roles and help."""

import datetime as dt
import threading
import time

import pytest
from sqlmodel import select

from bot import clock, inbound
from bot.message import InboundMessage, Reply
from bot.models import Delivery, OutboundMessage
from bot.models import InboundMessage as InboundRow
from bot.router import Context, Router
from handlers import build_router
from tests.conftest import make_runtime
from tests.helpers import add_roster


def text(user, content, msg_id="1"):
    return InboundMessage(channel="wecom", sender=user, msg_type="text", text=content, msg_id=msg_id,
                          create_time=clock.timestamp())


@pytest.fixture
def roster_rt(rt):
    add_roster(rt)
    return rt


def slow_router(seconds, calls):
    router = Router()

    def slow(ctx: Context) -> str:
        """慢 — 一个很慢的指令"""
        calls.append(ctx.message.sender)
        time.sleep(seconds)
        return "慢慢来的回复"

    router.command("慢", slow, bare=True)
    return router


def test_slow_handler_answers_empty_then_pushes_the_reply(roster_rt):
    calls = []
    reply = inbound.handle(roster_rt, slow_router(0.6, calls), text("m1", "慢"), timeout=0.1)
    assert reply is None  # empty 200 at once
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with roster_rt.session() as s:
            msg = s.exec(select(OutboundMessage)).first()
            if msg is not None:
                break
        time.sleep(0.05)
    assert msg is not None, "the late reply was not queued"
    assert "慢慢来的回复" in msg.payload
    assert msg.reply is True
    with roster_rt.session() as s:
        assert [d.recipient for d in s.exec(select(Delivery))] == ["m1"]
        assert s.exec(select(InboundRow)).one().status == "pushed"
    assert calls == ["m1"]


def test_retry_while_first_is_running_waits_for_the_same_reply(roster_rt):
    calls, results = [], {}
    router = slow_router(0.5, calls)
    msg = text("m1", "慢", msg_id="77")

    def first():
        results["first"] = inbound.handle(roster_rt, router, msg, timeout=4)

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.15)
    results["retry"] = inbound.handle(roster_rt, router, msg, timeout=4)
    thread.join()
    assert calls == ["m1"]
    assert results["first"].text == results["retry"].text == "慢慢来的回复"


def test_retry_gives_up_after_three_seconds_with_an_empty_answer(roster_rt):
    """The retry waits RETRY_WAIT (3 s) of the clock for the first delivery's reply, then answers empty while
    the first is still in its handler. The handler waits on an event and the clock is moved forward
    (clock.skip) instead of sleeping 3.6 s."""
    calls, release = [], threading.Event()
    router = Router()

    def blocked(ctx: Context) -> str:
        """慢 — 一个很慢的指令"""
        calls.append(ctx.message.sender)
        assert release.wait(30)
        return "慢慢来的回复"

    router.command("慢", blocked, bare=True)
    msg = text("m1", "慢", msg_id="78")
    first = threading.Thread(target=inbound.handle, args=(roster_rt, router, msg), kwargs={"timeout": 4})
    first.start()
    try:
        deadline = time.monotonic() + 30
        while not calls:
            assert time.monotonic() < deadline, "the first delivery never reached its handler"
            time.sleep(0.01)
        answered = threading.Event()

        def clock_runs() -> None:  # 0.1 s of the clock every 10 ms until the retry answers
            while not answered.wait(0.01):
                clock.skip(0.1)

        ticker = threading.Thread(target=clock_runs)
        started = clock.monotonic()
        ticker.start()
        try:
            # no callback timeout around the retry: only the 3-s wait itself can make it answer empty
            assert inbound.handle(roster_rt, router, msg) is None
        finally:
            answered.set()
            ticker.join()
        assert clock.monotonic() - started >= inbound.RETRY_WAIT == 3.0
        assert first.is_alive()  # still in its handler: the retry gave up without its reply
    finally:
        release.set()
        first.join(timeout=30)
    assert calls == ["m1"]


def test_failed_handler_rolls_back_and_a_retry_may_run_again(roster_rt):
    router, attempts = Router(), []

    def flaky(ctx: Context) -> str:
        """坏 — 第一次失败"""
        attempts.append(1)
        ctx.member.do_not_disturb = True
        ctx.session.add(ctx.member)
        if len(attempts) == 1:
            raise RuntimeError("boom")
        return "好了"

    router.command("坏", flaky, bare=True)
    msg = text("m1", "坏", msg_id="79")
    assert "系统繁忙" in inbound.handle(roster_rt, router, msg).text
    with roster_rt.session() as s:
        from bot.models import Member
        assert not s.exec(select(Member).where(Member.userid == "m1")).one().do_not_disturb
    assert inbound.handle(roster_rt, router, msg).text == "好了"
    assert len(attempts) == 2


def test_redis_dedup(backend, redis_url, redis_prefix):
    rt = make_runtime(backend, redis={"url": redis_url, "prefix": redis_prefix})
    add_roster(rt)
    router = build_router()
    msg = text("m1", "免打扰", msg_id="4242")
    first = inbound.handle(rt, router, msg)
    second = inbound.handle(rt, router, msg)
    assert first.text == second.text
    assert rt.redis.exists(*list(rt.redis.scan_iter(match=redis_prefix + "inbound:*")))
    with rt.session() as s:
        assert len(s.exec(select(InboundRow)).all()) == 1
    rt.close()


def test_role_refusal_is_not_help(roster_rt):
    router = Router()

    def notice(ctx: Context) -> str:
        """发布通知 内容 — 向本支部发通知"""
        return "已发布"

    def veto(ctx: Context) -> str:
        """否决 userid 原因 — 一票否决"""
        return "已否决"

    router.command("发布通知", notice, roles=("secretary", "deputy", "committee"))
    router.command("否决", veto, roles=("committee",))
    assert inbound.handle(roster_rt, router, text("m1", "发布通知 明天开会", "a")).text == "仅限支部书记使用"
    assert inbound.handle(roster_rt, router, text("sec", "发布通知 明天开会", "b")).text == "已发布"
    assert inbound.handle(roster_rt, router, text("sec", "否决 m1 原因", "c")).text == "仅限党委委员使用"
    assert inbound.handle(roster_rt, router, text("cw", "否决 m1 原因", "d")).text == "已否决"


def test_help_lists_only_what_the_role_can_run(roster_rt):
    router = build_router()

    def notice(ctx: Context) -> str:
        """发布通知 内容 — 向本支部发通知"""
        return "ok"

    router.command("发布通知", notice, roles=("secretary",), area="支部管理", basic=True)
    member_help = inbound.handle(roster_rt, router, text("m1", "帮助", "h1")).text
    secretary_help = inbound.handle(roster_rt, router, text("sec", "帮助", "h2")).text
    assert "发布通知" not in member_help
    assert "发布通知" in secretary_help
    assert "免打扰" in member_help


def test_prefix_rule_args():
    router = Router()
    seen = {}

    def leave(ctx: Context) -> Reply:
        """请假 原因 — 请假"""
        seen["args"] = ctx.args
        return Reply("ok")

    def answer(ctx: Context) -> Reply:
        """答 文字 — 回答"""
        seen["answer"] = ctx.args
        return Reply("ok")

    router.command("请假", leave)
    router.command("答", answer)

    class M:
        def has_role(self, *roles):
            return True

    def run(t):
        ctx = Context(runtime=None, session=None, message=text("x", t), member=M())
        return router.dispatch(ctx)

    run("请假家中有事")
    assert seen["args"] == "家中有事"
    run("答 北京")
    assert seen["answer"] == "北京"
    seen.pop("answer")
    run("答案是什么")  # a one-character word needs a space
    assert "answer" not in seen


def test_slow_anonymous_report_pushes_no_ticket_text(roster_rt):
    router = Router()

    def report(ctx: Context) -> str:
        """匿名反映 文字 — 匿名反映"""
        time.sleep(0.4)
        return "已收到匿名反映 #41：食堂太贵"

    router.command("匿名反映", report, anonymous=True)  # the route's flag seals the sender
    assert inbound.handle(roster_rt, router, text("m1", "匿名反映 食堂太贵", "anon1"), timeout=0.05) is None
    deadline = time.monotonic() + 5
    msg = None
    while msg is None and time.monotonic() < deadline:
        time.sleep(0.05)
        with roster_rt.session() as s:
            msg = s.exec(select(OutboundMessage)).first()
    assert msg is not None
    assert "#41" not in msg.payload
    assert "食堂" not in msg.payload
    with roster_rt.session() as s:
        row = s.exec(select(InboundRow)).one()
    assert (row.sender, row.content, row.payload, row.status) == ("", "", None, "pushed")
    for moment in (row.received_at, row.finished_at):  # nothing finer than the day
        assert clock.local(moment).time() == dt.time(0)
