"""待审 / 通过 / 驳回 across kinds, the shared #N numbering and who may decide."""

import threading
import time

import pytest
from sqlmodel import select

from bot import clock, inbound, texts
from bot.message import InboundMessage
from bot.models import Approval, AuditLog, Branch, Delivery, LedgerEntry, Member
from bot.services import approvals, registry
from handlers import build_router
from tests.helpers import add_roster

APPLIED: list[int] = []


def _approve(session, request, decider, config):
    APPLIED.append(request.number)


@pytest.fixture(autouse=True)
def test_kinds(monkeypatch):
    """Kinds for these tests only, in the one table for the test's duration (labelled like a 补签)."""
    for kind in (approvals.Kind("testkind", "study.makeup_label", _approve),
                 approvals.Kind("slowkind", "study.makeup_label", _approve_slowly)):
        monkeypatch.setitem(registry.approval_kinds(), kind.name, kind)


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
    assert f"#{n1} {texts.t('study.makeup_label')}" in listing
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



SLOW: list[int] = []


def _approve_slowly(session, request, decider, config):
    SLOW.append(request.number)
    time.sleep(0.3)  # widens the race: the other decider arrives while this decision is not committed


TAKEN = "#{n} 已由他人处理，无需再次处理。回复「待审」查看其余申请。"


def _together(deciders: list[str], act) -> dict[str, str]:
    """Run `act(userid)` for every decider at the same moment in its own thread; their replies."""
    barrier = threading.Barrier(len(deciders))
    replies: dict[str, str] = {}

    def run(userid: str) -> None:
        barrier.wait(timeout=10)
        replies[userid] = act(userid)

    threads = [threading.Thread(target=run, args=(u,)) for u in deciders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(replies) == sorted(deciders)
    return replies


def _second_committee_member(rt) -> None:
    with rt.session() as s:
        top = s.exec(select(Branch).where(Branch.code == "dw")).one()
        s.add(Member(userid="cw2", name="委员己", branch_id=top.id, roles="member;committee"))


def test_two_deciders_at_once_apply_it_once(setup):
    """Two committee members decide one request in parallel sessions: one applies it, the other is told.
    (SQLite takes the write lock up front, as a chat transaction there would fail and be retried.)"""
    rt, _ = setup
    _second_committee_member(rt)
    SLOW.clear()
    with rt.session() as s:
        member = s.exec(select(Member).where(Member.userid == "m1")).one()
        number = approvals.create(s, "slowkind", member, "并发审批").number

    def decide(userid: str) -> str:
        scope = rt.session() if rt.is_postgres else rt.write()
        try:
            with scope as s:
                decider = s.exec(select(Member).where(Member.userid == userid)).one()
                approvals.decide(s, rt.config, decider, number, True)
                return "won"
        except approvals.ApprovalError as exc:
            return str(exc)

    replies = _together(["cw", "cw2"], decide)
    assert SLOW == [number]
    assert sorted(replies.values()) == sorted(["won", TAKEN.format(n=number) if rt.is_postgres
                                               else f"#{number} 已经通过，无需再次处理。"])
    winner = next(u for u, r in replies.items() if r == "won")
    with rt.session() as s:
        row = s.exec(select(Approval).where(Approval.number == number)).one()
        assert (row.status, row.decided_by) == ("approved", winner)
        assert [a.actor for a in s.exec(select(AuditLog).where(AuditLog.action == "approved_slowkind"))] == [winner]
        assert len(s.exec(select(Delivery).where(Delivery.recipient == "m1")).all()) == 1


def test_two_committee_members_approve_one_adjustment_once_in_chat(postgres_url):
    """The reported race (+50 became +100 on PostgreSQL), through the chat pipeline."""
    from tests.conftest import make_runtime

    rt = make_runtime(postgres_url)
    try:
        add_roster(rt)
        _second_committee_member(rt)
        assert "已提交党委审批" in say(rt, "sec", "加分 m1 50 抗洪抢险")
        with rt.session() as s:
            number = s.exec(select(Approval).where(Approval.kind == "points")).one().number

        def approve(userid: str) -> str:
            msg = InboundMessage(channel="wecom", sender=userid, msg_type="text", text=f"通过 #{number}",
                                 msg_id=f"race-{number}-{userid}", create_time=clock.timestamp())
            return inbound.handle(rt, build_router(), msg, timeout=20).text

        replies = sorted(_together(["cw", "cw2"], approve).values())
        assert sum(r.startswith(f"已通过 #{number}") for r in replies) == 1
        assert sum(r in (TAKEN.format(n=number), f"#{number} 已经通过，无需再次处理。") for r in replies) == 1
        with rt.session() as s:
            member = s.exec(select(Member).where(Member.userid == "m1")).one()
            entries = s.exec(select(LedgerEntry).where(LedgerEntry.member_id == member.id)).all()
            assert [(e.points, e.rule) for e in entries] == [(50, "manual")]
    finally:
        rt.close()
