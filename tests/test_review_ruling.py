"""裁定 through signed WeCom callbacks: the committee settles a review held as disputed (维持 / 修改 结论),
the subject and the disputers are told, nothing else changes; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from bot import clock
from bot.models import Approval, AuditLog, LedgerEntry, Member, Review
from bot.services import approvals
from scheduler import jobs
from tests.callbacks import say_wecom
from tests.helpers import texts_to

TZ = clock.tz()
SELF = "本半年坚持晨学打卡，参加主题党日五次，帮扶困难群众两户。"
USAGE = "格式：裁定 编号 维持|修改 [结论] 说明（修改时先写新结论再写说明，维持时不写结论）"


def _disputed_pair(client, rt) -> None:
    """#1 by m1 disputed by m2, #2 by m2 disputed by sec; both held as `disputed` after the notice."""
    say_wecom(client, "m1", f"自评 {SELF}")
    say_wecom(client, "m2", f"自评 {SELF}")
    say_wecom(client, "sec", "通过 1")
    say_wecom(client, "sec", "通过 2")
    assert say_wecom(client, "m2", "异议 1 帮扶只有一户").startswith("已记录")
    assert say_wecom(client, "sec", "异议 2 晨学打卡有缺漏").startswith("已记录")
    assert say_wecom(client, "cw", "裁定 1 维持 属实") == (
        "#1 不是有异议待裁定的评价，只有公示期满仍有异议的评价可以裁定。")  # still in its notice
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0, tzinfo=TZ))
    assert jobs.get("review_finalise").run(rt, dt.date(2026, 12, 3)) == "final=0 disputed=2"


def _statuses(rt) -> list[tuple[int, str, int | None]]:
    with rt.session() as s:
        return [(r.number, r.status, r.points) for r in s.exec(select(Review).order_by(Review.number))]


def _ruling(rt, number: int) -> dict:
    with rt.session() as s:
        return json.loads(s.exec(select(Approval).where(Approval.number == number)).one().payload)["ruling"]


def test_committee_settles_disputed_reviews(app_rt):
    client, rt = app_rt
    _disputed_pair(client, rt)
    before = _statuses(rt)
    with rt.session() as s:
        ledger = len(s.exec(select(LedgerEntry)).all())
    assert say_wecom(client, "sec", "裁定 1 维持 经核实属实") == "仅限党委委员使用"
    assert say_wecom(client, "m1", "裁定 1 维持 经核实属实") == "仅限党委委员使用"
    assert say_wecom(client, "cw", "裁定 1").startswith(USAGE)
    assert say_wecom(client, "cw", "裁定 1 维持").startswith(USAGE)  # the explanation is required
    assert say_wecom(client, "cw", "裁定 1 修改 基本合格").startswith(USAGE)
    assert say_wecom(client, "cw", "裁定 1 撤销 不成立").startswith(USAGE)
    assert say_wecom(client, "cw", "裁定 99 维持 经核实属实") == "没有找到编号 #99 的评价，请核对编号。"
    assert _statuses(rt) == before  # nothing acted so far

    reply = say_wecom(client, "cw", "裁定 1 维持 经支部核实帮扶两户属实")
    assert reply == "已裁定 #1：维持，已定稿，已通知本人和提出异议的党员。"
    told = "党委裁定：党员乙 2026 年下半年 自评 #1 维持原评价，已定稿。说明：经支部核实帮扶两户属实"
    assert texts_to(rt, "m1")[-1] == told
    assert texts_to(rt, "m2")[-1] == told
    assert told not in texts_to(rt, "sec")  # not a disputer of #1
    assert say_wecom(client, "cw", "裁定 1 修改 合格 再议") == (
        "#1 不是有异议待裁定的评价，只有公示期满仍有异议的评价可以裁定。")  # settled once

    reply = say_wecom(client, "cw", "裁定 ＃2，修改：基本合格，晨学打卡缺漏 12 天")  # full-width, `，` and `：`
    assert reply == "已裁定 #2：修改「基本合格」，已定稿，已通知本人和提出异议的党员。"
    told = "党委裁定：党员丙 2026 年下半年 自评 #2 的结论改为「基本合格」，已定稿。说明：晨学打卡缺漏 12 天"
    assert texts_to(rt, "m2")[-1] == told
    assert texts_to(rt, "sec")[-1] == told

    assert _statuses(rt) == [(n, "final", p) for n, _, p in before]  # the points snapshot is unchanged
    assert _ruling(rt, 1) | {"by": None} == {"outcome": "upheld", "conclusion": "", "note": "经支部核实帮扶两户属实",
                                            "by": None, "on": "2026-12-03"}
    assert _ruling(rt, 2)["outcome"] == "amended"
    assert _ruling(rt, 2)["conclusion"] == "基本合格"
    assert _ruling(rt, 2)["note"] == "晨学打卡缺漏 12 天"
    with rt.session() as s:
        assert len(s.exec(select(LedgerEntry)).all()) == ledger
        audits = s.exec(select(AuditLog).where(AuditLog.action == "review_ruling").order_by(AuditLog.id)).all()
        assert [(a.actor, a.target, a.detail) for a in audits] == [("cw", "#1", "upheld"), ("cw", "#2", "amended")]
        assert all(r.finalised_at is not None for r in s.exec(select(Review)))


def test_ruling_is_listed_for_the_committee_only(app_rt):
    client, _ = app_rt
    assert "裁定" in say_wecom(client, "cw", "帮助 裁定")
    assert "裁定" not in say_wecom(client, "sec", "帮助")
    assert "裁定" not in say_wecom(client, "m1", "帮助")


def test_no_ruling_on_ones_own_review(app_rt):
    client, rt = app_rt
    with rt.session() as s:  # the committee member's own review, held as disputed
        cw = s.exec(select(Member).where(Member.userid == "cw")).one()
        number = approvals.next_number(s, "review")
        s.add(Review(number=number, member_id=cw.id, branch_id=cw.branch_id, period="2026-H2", text=SELF,
                     status="disputed"))
    assert say_wecom(client, "cw", f"裁定 {number} 维持 经核实属实") == (
        f"不能裁定自己的评价 #{number}，请由其他党委委员裁定。")
    assert _statuses(rt) == [(number, "disputed", None)]
