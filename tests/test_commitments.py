"""承诺践诺 through signed WeCom callbacks: approval under the commitment's own number, limits, progress,
完成 with points, one vote per member, escalation below 50% (49% escalates, 50% does not); both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot import clock
from bot.models import Approval, Branch, CaseNumber, Commitment, LedgerEntry, Member
from bot.services import commitments
from scheduler import jobs
from tests.callbacks import say_wecom
from tests.helpers import texts_to

TZ = clock.tz()


def test_commitment_lifecycle(app_rt):
    client, rt = app_rt
    assert say_wecom(client, "m1", "承诺").startswith("格式：承诺 内容（写可衡量的内容")
    reply = say_wecom(client, "m1", "承诺 全年帮扶 2 名困难群众")
    assert reply == "年度承诺已提交，编号 #1，等待支部书记审核，结果会通知您。回复「我的承诺」查看。"
    with rt.session() as s:
        assert s.get(CaseNumber, 1).kind == "commitment"
        request = s.exec(select(Approval)).one()
        assert (request.number, request.kind) == (1, "commitment")  # approved under its own number
    assert "#1 承诺：党员乙 年度承诺：全年帮扶 2 名困难群众" in say_wecom(client, "sec", "待审")
    assert say_wecom(client, "m1", "践诺 1 已走访 1 户").startswith("#1 目前是「待审核」")
    approved = say_wecom(client, "sec", "通过 1")
    assert approved == "已通过 #1（承诺：党员乙 年度承诺：全年帮扶 2 名困难群众），已通知本人。"
    assert say_wecom(client, "m2", "践诺 1 帮忙").startswith("#1 不是您的承诺")
    assert say_wecom(client, "m1", "践诺 #1 已走访 1 户") == "已记录 #1 的第 1 次践诺进展。"
    assert say_wecom(client, "m1", "践诺 1 已走访 2 户") == "已记录 #1 的第 2 次践诺进展。"
    mine = say_wecom(client, "m1", "我的承诺").splitlines()
    assert mine[:2] == ["2026 年您的承诺（1 项）：", "#1 年度承诺：全年帮扶 2 名困难群众（践诺中，进展 2 次）"]
    assert say_wecom(client, "m1", "完成 1") == "仅限支部书记使用"
    assert say_wecom(client, "sec", "满意 1") == "#1 现在不在评价期。"
    assert say_wecom(client, "sec", "完成 #1") == "#1 已确认兑现，积分已记入，支部党员可在 2026-12-02 前评价。"
    assert say_wecom(client, "sec", "完成 1").startswith("#1 目前是「已兑现」")
    with rt.session() as s:
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.rule == "commitment_fulfilled")).all()
        assert [(e.points, e.actor, e.source) for e in entries] == [(5, "sec", "commitment:#1")]
    assert texts_to(rt, "m2")[-1].startswith("党员乙 的承诺 #1「全年帮扶 2 名困难群众」已兑现。请在 2026-12-02 前评价")
    assert say_wecom(client, "m1", "满意 1") == "不能评价自己的承诺 #1。"
    assert say_wecom(client, "cw", "满意 1") == "#1 由本支部党员评价。"
    assert say_wecom(client, "sec", "满意 1") == "已记录您对 #1 的评价：满意。"
    assert say_wecom(client, "sec", "不满意 1") == "您已经评价过 #1，每人一票。"
    assert say_wecom(client, "m2", "不满意 1") == "已记录您对 #1 的评价：不满意。"
    with rt.session() as s:  # every eligible member voted: closed; 1 of 2 is 50% with fewer than 3 votes
        row = s.exec(select(Commitment)).one()
        assert row.evaluated_at is not None
        assert row.escalated_at is None
    assert "满意 1/2" in say_wecom(client, "m1", "我的承诺")
    assert say_wecom(client, "m2", "承诺公示").splitlines() == [
        "本支部 2026 年承诺公示（1 项）：", "#1 党员乙：全年帮扶 2 名困难群众（已兑现）"]
    assert say_wecom(client, "cw", "承诺公示") == "本支部 2026 年还没有审核通过的承诺。"
    assert say_wecom(client, "m2", "满意 99") == "没有找到编号 #99 的问题或承诺，请核对编号。"


def test_rejected_commitment_and_yearly_limit(app_rt):
    client, _ = app_rt
    for n in range(4):
        assert "已提交" in say_wecom(client, "m1", f"承诺 第{n + 1}项年度承诺")
    assert say_wecom(client, "m1", "承诺 第五项年度承诺") == "2026 年您已有 4 项年度承诺，达到上限。"
    assert say_wecom(client, "m1", "即时承诺 本周修好楼道灯").startswith("即时承诺已提交，编号 #5")
    assert say_wecom(client, "sec", "驳回 2 不够具体").startswith("已驳回 #2（承诺：")
    assert say_wecom(client, "m1", "承诺 第五项年度承诺，更具体").startswith("年度承诺已提交，编号 #6")
    assert "（未通过，进展 0 次）" in say_wecom(client, "m1", "我的承诺")


def _branch_with_voters(rt, code: str, voters: int) -> tuple[int, list[Member]]:
    with rt.session() as s:
        top = s.exec(select(Branch).where(Branch.code == "dw")).one()
        branch = Branch(code=code, name=f"支部{code}", parent_id=top.id)
        s.add(branch)
        s.flush()
        owner = Member(userid=f"{code}owner", name="承诺人", branch_id=branch.id)
        sec = Member(userid=f"{code}sec", name="书记", branch_id=branch.id, roles="member;secretary")
        people = [Member(userid=f"{code}v{i}", name=f"党员{i}", branch_id=branch.id) for i in range(voters - 1)]
        s.add_all([owner, sec, *people])
        s.flush()
        row = commitments.make(s, rt.config, owner, "全年义务献血一次", "yearly")
        row.status = "approved"
        commitments.fulfil(s, rt.config, sec, row.number)
        return row.number, [sec, *people]


@pytest.mark.parametrize(("satisfied", "escalated"), [(49, True), (50, False)])
def test_satisfaction_below_half_escalates(app_rt, satisfied, escalated):
    _, rt = app_rt
    number, voters = _branch_with_voters(rt, "x", 100)
    with rt.session() as s:
        row = commitments.get(s, number)
        for i, voter in enumerate(voters):
            commitments.vote(s, rt.config, s.get(Member, voter.id), row, i < satisfied)
        assert commitments.tally(s, row) == (satisfied, 100)
        assert row.evaluated_at is not None
        assert (row.escalated_at is not None) is escalated
    warned = [t for t in texts_to(rt, "cw") if t.startswith("承诺满意度预警")]
    assert warned == ([f"承诺满意度预警：承诺人 的承诺 #{number}「全年义务献血一次」满意 49/100（49.0%），"
                       "低于 50%，请党委关注。"] if escalated else [])


def test_vote_window_closes_in_the_job(app_rt):
    _, rt = app_rt
    number, voters = _branch_with_voters(rt, "y", 10)
    with rt.session() as s:
        row = commitments.get(s, number)
        for voter, choice in zip(voters[:3], (True, False, False), strict=True):
            commitments.vote(s, rt.config, s.get(Member, voter.id), row, choice)
    job = jobs.get("ticket_escalation")
    assert job.run(rt, dt.date(2026, 12, 2)) == "supervision_notices=0 commitments_escalated=0"  # still open
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0, tzinfo=TZ))
    assert job.run(rt, dt.date(2026, 12, 3)) == "supervision_notices=0 commitments_escalated=1"
    assert job.run(rt, dt.date(2026, 12, 3)) == "supervision_notices=0 commitments_escalated=0"
    with rt.session() as s:
        with pytest.raises(commitments.CommitmentError):
            commitments.vote(s, rt.config, s.get(Member, voters[5].id), commitments.get(s, number), True)
