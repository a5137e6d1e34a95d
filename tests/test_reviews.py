"""Review rounds through signed WeCom callbacks: 自评 → 通过 under its own number → 7-day notice → 异议 →
review_finalise (final, or disputed); on SQLite and PostgreSQL. One step per test; `_submitted`/`_in_notice`
bring a round to the state the step starts from (#1 by m1, #2 by m2, both of 2026 年下半年)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot import clock
from bot.models import CaseNumber, Review
from scheduler import jobs
from tests.callbacks import say_wecom
from tests.helpers import texts_to

TZ = clock.tz()
SELF = "本半年坚持晨学打卡，参加主题党日五次，帮扶困难群众两户。"


def _submitted(client) -> None:
    assert say_wecom(client, "m1", f"自评 {SELF}").startswith("自评已提交，编号 #1")
    assert say_wecom(client, "m2", f"自评 {SELF}").startswith("自评已提交，编号 #2")


def _in_notice(client) -> None:
    _submitted(client)
    assert say_wecom(client, "sec", "通过 1").startswith("已通过 #1")
    assert say_wecom(client, "sec", "通过 2").startswith("已通过 #2")


def _statuses(rt) -> list[tuple[int, str]]:
    with rt.session() as s:
        return [(r.number, r.status) for r in s.exec(select(Review).order_by(Review.number))]


def test_self_review_is_numbered_and_replaced_while_pending(app_rt):
    client, rt = app_rt
    assert say_wecom(client, "m1", "自评 很好").startswith("格式：自评 文字（至少 10 个字")
    assert say_wecom(client, "m1", f"自评 {SELF}") == ("自评已提交，编号 #1（2026 年下半年），等待支部审核；"
                                                      "审核通过后在支部公示 7 天。")
    assert say_wecom(client, "m1", f"自评 {SELF}（修改）").startswith("自评已提交，编号 #1")  # pending: replaced
    assert say_wecom(client, "m2", f"自评 {SELF}").startswith("自评已提交，编号 #2")
    with rt.session() as s:
        assert s.get(CaseNumber, 1).kind == "review"
        assert [(r.number, r.text) for r in s.exec(select(Review).order_by(Review.number))] == [
            (1, f"{SELF}（修改）"), (2, SELF)]


def test_no_objection_before_the_notice(app_rt):
    client, rt = app_rt
    _submitted(client)
    assert say_wecom(client, "m2", "异议 1 不属实").startswith("#1 不在公示期")
    assert _statuses(rt) == [(1, "submitted"), (2, "submitted")]


def test_approval_notifies_the_branch_and_closes_the_review(app_rt):
    client, rt = app_rt
    _submitted(client)
    assert say_wecom(client, "sec", "通过 1").startswith("已通过 #1（自评：党员乙 2026 年下半年 自评")
    notice = texts_to(rt, "m2")[0]
    assert notice.startswith("公示：党员乙 2026 年下半年 自评 #1（本年积分 100 分）")
    assert "公示至 2026-12-02" in notice
    again = say_wecom(client, "m1", f"自评 {SELF}")
    assert again == "您 2026 年下半年 的自评 #1 已审核，不能再修改；如有问题请联系支部书记。"


def test_objections_come_from_other_members_of_the_branch_once(app_rt):
    client, rt = app_rt
    _in_notice(client)
    assert say_wecom(client, "m1", "异议 1 自己") == "不能对自己的评价 #1 提出异议。"
    assert say_wecom(client, "cw", "异议 1 不清楚") == "#1 由本支部党员提出异议。"
    assert say_wecom(client, "m2", "异议 #1 帮扶只有一户") == "已记录您对 #1 的异议，支部书记会核实处理。"
    assert say_wecom(client, "m2", "异议 1 再说一次") == "您已经对 #1 提出过异议。"
    assert texts_to(rt, "sec")[-1] == "党员丙 对公示中的评价 #1 提出异议：帮扶只有一户"


def test_finalise_after_the_notice_final_or_disputed_once(app_rt):
    client, rt = app_rt
    _in_notice(client)
    assert say_wecom(client, "m2", "异议 1 帮扶只有一户").startswith("已记录")
    job = jobs.get("review_finalise")
    assert job.run(rt, dt.date(2026, 12, 2)) == "final=0 disputed=0"  # the notice runs through 12-02
    assert _statuses(rt) == [(1, "notice"), (2, "notice")]
    clock.freeze(dt.datetime(2026, 12, 3, 9, 0, tzinfo=TZ))
    assert job.run(rt, dt.date(2026, 12, 3)) == "final=1 disputed=1"
    assert job.run(rt, dt.date(2026, 12, 3)) == "final=0 disputed=0"
    assert _statuses(rt) == [(1, "disputed"), (2, "final")]
    assert texts_to(rt, "m2")[-1] == "您的自评 #2（2026 年下半年）公示期满无异议，已定稿。"
    assert texts_to(rt, "cw")[-1] == "评价 #1（党员乙）公示期满，收到 1 条异议，暂不定稿，请核实处理。"
