"""待审 / 通过 / 驳回 across kinds, the shared #N numbering and who may decide."""

import pytest
from sqlmodel import select

from bot import clock, inbound
from bot.message import InboundMessage
from bot.models import Approval, AuditLog, Branch, Delivery, Member
from bot.services import approvals
from handlers import build_router
from tests.helpers import add_roster

APPLIED: list[int] = []


def _approve(session, request, decider, config):
    APPLIED.append(request.number)


approvals.register_kind(approvals.Kind("testkind", "测试申请", _approve))


@pytest.fixture
def setup(rt):
    people = add_roster(rt)
    APPLIED.clear()
    return rt, people


def say(rt, user, text, n=[0]):  # noqa: B006 - a counter for unique message ids
    n[0] += 1
    msg = InboundMessage(channel="wecom", sender=user, msg_type="text", text=text, msg_id=f"ap-{n[0]}",
                         create_time=clock.timestamp())
    return inbound.handle(rt, build_router(), msg).text


def make_request(rt, userid, summary="2026-11-20 出差"):
    with rt.session() as s:
        member = s.exec(select(Member).where(Member.userid == userid)).one()
        return approvals.create(s, "testkind", member, summary).number


def test_numbers_are_one_sequence(setup):
    rt, _ = setup
    first = make_request(rt, "m1")
    second = make_request(rt, "m2")
    assert second == first + 1


def test_pending_approve_reject_flow(setup):
    rt, _ = setup
    n1 = make_request(rt, "m1")
    n2 = make_request(rt, "m2", "家中有事")
    listing = say(rt, "sec", "待审")
    assert f"#{n1} 测试申请" in listing
    assert f"#{n2}" in listing
    assert "仅限支部书记使用" == say(rt, "m2", "待审")
    assert f"已通过 #{n1}" in say(rt, "sec", f"通过 #{n1}")
    assert APPLIED == [n1]
    assert "已经通过" in say(rt, "sec", f"通过 {n1}")
    assert "需要说明原因" in say(rt, "sec", f"驳回 {n2}")
    assert f"已驳回 #{n2}" in say(rt, "sec", f"驳回 {n2} 理由不充分")
    assert APPLIED == [n1]
    assert "没有待审批" in say(rt, "sec", "待审")
    with rt.session() as s:
        rows = {a.number: a for a in s.exec(select(Approval))}
        assert rows[n1].status == "approved"
        assert rows[n1].decided_by == "sec"
        assert rows[n2].reason == "理由不充分"
        told = sorted(d.recipient for d in s.exec(select(Delivery)))
        assert told == ["m1", "m2"]
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.actor == "sec"))]
        assert actions == ["approved_testkind", "rejected_testkind"]


def test_nobody_decides_their_own_or_another_branch(setup):
    rt, _ = setup
    own = make_request(rt, "sec")
    assert "本人的申请" in say(rt, "sec", f"通过 {own}")
    with rt.session() as s:
        other = Branch(code="b2", name="第二党支部")
        s.add(other)
        s.flush()
        s.add(Member(userid="x9", name="外支部", branch_id=other.id))
    foreign = make_request(rt, "x9")
    assert "无权审批" in say(rt, "sec", f"通过 {foreign}")
    assert "没有编号" in say(rt, "sec", "通过 #99999")
    assert "格式" in say(rt, "sec", "通过 abc")
    # a committee member decides for any branch, and may narrow 待审 with @code
    assert f"#{foreign}" in say(rt, "cw", "@b2 待审")
    assert f"#{own}" not in say(rt, "cw", "@b2 待审")
    assert "已通过" in say(rt, "cw", f"通过 {foreign}")
    assert "没有编码" in say(rt, "cw", "@nope 待审")
    assert "仅限党委委员使用" == say(rt, "sec", "@b2 待审")
