"""积分, 排行, 开启/关闭排行, 加分/扣分 and 否决 through signed WeCom callbacks, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading

from click.testing import CliRunner
from sqlmodel import select

from bot import clock
from bot.cli import cli
from bot.models import Approval, AuditLog, Branch, Delivery, LedgerEntry, Member
from bot.services.points import admin as points_admin
from bot.services.points import core as pts
from bot.web import build_app
from tests.callbacks import WECOM, say_wecom
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster

DAY = dt.date(2026, 11, 25)


def member(s, userid: str) -> Member:
    return s.exec(select(Member).where(Member.userid == userid)).one()


def ledger(rt, userid: str) -> list[tuple[int, str, str]]:
    with rt.session() as s:
        return [(e.points, e.rule, e.actor) for e in pts.entries(s, member(s, userid))]


def test_points_shows_total_and_entries_with_zero_ones(app_rt):
    client, rt = app_rt
    with rt.session() as s:
        m1 = member(s, "m1")
        pts.award(s, rt.config, m1, "study_checkin", on=DAY - dt.timedelta(days=1), reason="晨学", source="s")
        pts.award(s, rt.config, m1, "study_checkin", on=DAY, reason="晨学", source="s")
        pts.award(s, rt.config, m1, "study_checkin", on=DAY, reason="晨学", source="s")
    reply = say_wecom(client, "m1", "积分")
    lines = reply.splitlines()
    assert lines[0] == "您的 2026 年积分：102 分"  # [points] base 100 + the year's entries
    assert "考核状态：合格" in lines  # the status is always shown
    assert "最近记录：" in lines
    assert "11-25 晨学打卡 0　超出每日上限：晨学" in lines
    assert "11-24 晨学打卡 +1　晨学" in lines
    assert "排名" not in reply  # ranking is off by default: no rank, no band
    assert lines[-1] == "对记录有疑问请联系支部书记。"
    fresh = say_wecom(client, "m2", "积分").splitlines()
    assert fresh[:2] == ["您的 2026 年积分：100 分", "考核状态：合格"]
    assert "今年还没有积分记录" in fresh[2]


def test_ranking_toggle_by_secretary_only(app_rt):
    client, rt = app_rt
    assert say_wecom(client, "m1", "排行") == "本支部没有开启积分排行。需要时请支部书记回复「开启排行」。"
    assert say_wecom(client, "m1", "开启排行") == "仅限支部书记使用"
    assert "已开启本支部积分排行" in say_wecom(client, "sec", "开启排行")
    assert "已经开启" in say_wecom(client, "sec", "开启排行")
    with rt.session() as s:
        pts.award(s, rt.config, member(s, "m1"), "theme_day_attend", on=DAY, reason="参加", source="e")
    board = say_wecom(client, "m1", "排行").splitlines()
    assert board[0] == "第一党支部 2026 年积分排行："
    assert board[1] == "1. 党员乙 105 分"
    assert sorted(board[2:4]) == ["2. 书记甲 100 分", "2. 党员丙 100 分"]
    assert "支部排名第 1 名，位列第一档" in say_wecom(client, "m1", "积分")
    assert "已关闭" in say_wecom(client, "sec", "关闭排行")
    assert "没有开启" in say_wecom(client, "m1", "排行")
    # a committee member switches another branch with @code
    assert "已开启" in say_wecom(client, "cw", "@b1 开启排行")
    with rt.session() as s:
        assert s.exec(select(Branch).where(Branch.code == "b1")).one().ranking_enabled is True
        actions = [(a.actor, a.action, a.target) for a in s.exec(select(AuditLog).order_by(AuditLog.id))
                   if a.action.startswith("ranking")]
    assert actions == [("sec", "ranking_on", "b1"), ("sec", "ranking_off", "b1"), ("cw", "ranking_on", "b1")]


def test_ranking_follows_config_default(backend):
    rt = make_runtime(backend, wecom=WECOM, points={"ranking": True})
    add_roster(rt)
    client = build_app(runtime=rt).test_client()
    assert say_wecom(client, "m1", "排行").startswith("第一党支部 2026 年积分排行：")
    assert "已经开启" in say_wecom(client, "sec", "开启排行")
    rt.close()


def test_manual_adjustments_from_chat(app_rt):
    client, rt = app_rt
    assert say_wecom(client, "m1", "加分 m2 1 帮忙") == "仅限支部书记使用"
    assert say_wecom(client, "sec", "加分").startswith("格式：加分 成员 分值 原因（成员写工号或姓名")
    assert say_wecom(client, "sec", "扣分 m1").startswith("格式：扣分 成员 分值 原因（成员写工号或姓名")
    assert say_wecom(client, "sec", "加分 m1 abc 原因").startswith("分值须为 1 到 100 的整数")
    assert say_wecom(client, "sec", "加分 m1 0 原因").startswith("分值须为")
    assert "名册中没有「nobody」" in say_wecom(client, "sec", "加分 nobody 2 原因")
    assert say_wecom(client, "sec", "加分 m1 2") == "请写明原因，例如「加分 m1 2 原因」。"
    assert "不能给自己" in say_wecom(client, "sec", "加分 sec 2 自评")
    assert "不在您的支部" in say_wecom(client, "sec", "加分 cw 2 跨支部")
    reply = say_wecom(client, "sec", "加分 M1 3 协助组织主题党日")
    assert reply == "已记入：党员乙 +3 分（协助组织主题党日），2026 年合计 103 分，已通知本人。"
    assert "-2 分" in say_wecom(client, "sec", "扣分 m1 2 无故缺席学习")
    assert ledger(rt, "m1") == [(3, "manual", "sec"), (-2, "manual", "sec")]
    with rt.session() as s:
        audits = s.exec(select(AuditLog).where(AuditLog.action == "points_adjust").order_by(AuditLog.id)).all()
        assert [(a.actor, a.target, a.detail) for a in audits] == [
            ("sec", "m1", "+3 协助组织主题党日"), ("sec", "m1", "-2 无故缺席学习")]
        told = s.exec(select(Delivery).where(Delivery.recipient == "m1")).all()
        assert len(told) == 2


def test_above_limit_goes_to_committee_through_chat(app_rt):
    client, rt = app_rt
    reply = say_wecom(client, "sec", "扣分 m1 15 严重违反学习纪律")
    assert "超过 10 分的限额，已提交党委审批" in reply
    with rt.session() as s:
        number = s.exec(select(Approval).where(Approval.kind == "points")).one().number
    assert f"#{number}" in reply
    assert ledger(rt, "m1") == []
    assert "需由其他支委审批" in say_wecom(client, "sec", f"通过 {number}")  # the requester cannot decide it
    assert ledger(rt, "m1") == []
    assert f"#{number}" in say_wecom(client, "cw", "待审")
    assert say_wecom(client, "cw", f"通过 #{number}").startswith(f"已通过 #{number}（积分调整")
    assert ledger(rt, "m1") == [(-15, "manual", "sec")]
    assert "-15" in say_wecom(client, "m1", "积分")


def test_veto_from_chat(app_rt):
    client, rt = app_rt
    assert say_wecom(client, "sec", "否决 m1 违纪") == "仅限党委委员使用"
    assert say_wecom(client, "cw", "否决 m1").startswith("格式：否决 成员 原因（成员写工号或姓名）")
    assert "不能否决自己" in say_wecom(client, "cw", "否决 cw 测试")
    reply = say_wecom(client, "cw", "否决 m1 违反廉洁纪律")
    assert reply == "已对 党员乙 的 2026 年度一票否决（违反廉洁纪律）。积分记录全部保留，已通知本人。"
    assert "已被否决" in say_wecom(client, "cw", "否决 m1 再次")
    assert "本年度已被一票否决：违反廉洁纪律" in say_wecom(client, "m1", "积分")
    with rt.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "points_veto")).one().actor == "cw"
        assert s.exec(select(LedgerEntry)).all() == []


def test_detail_lists_a_month_line_by_line_in_pages(app_rt):
    client, rt = app_rt
    with rt.session() as s:
        m1 = member(s, "m1")
        for day in range(1, 26):
            for rule in ("study_checkin", "study_answer", "reflection"):
                pts.award(s, rt.config, m1, rule, on=dt.date(2026, 11, day), reason="第" + str(day) + "天" * 20,
                          source="s")
        pts.award(s, rt.config, m1, "theme_day_attend", on=dt.date(2026, 10, 5), reason="10月主题党日", source="e")
    october = say_wecom(client, "m1", "积分明细 2026-10").splitlines()
    assert october == ["2026 年 10 月积分明细（1 条，合计 5 分）：", "10-05 参加主题党日 +5　10月主题党日",
                       "回复「积分明细 年-月」查看其他月份，如「积分明细 2026-09」。"]
    november = [say_wecom(client, "m1", "积分明细")]
    assert november[0].startswith("2026 年 11 月积分明细（75 条，合计 75 分）：")
    while "回复「下一页」继续" in november[-1]:  # 75 long lines do not fit one reply: they come in pages
        november.append(say_wecom(client, "m1", "下一页"))
    assert len(november) > 1
    assert all(len(page.encode()) <= 2048 for page in november)
    assert sum(page.count("晨学打卡 +1") for page in november) == 25
    assert sum(page.count(" +1　第") for page in november) == 75
    assert say_wecom(client, "m1", "积分明细 2026-13").startswith("格式：积分明细")
    assert "没有积分记录" in say_wecom(client, "m1", "积分明细 2025-01")
    summary = say_wecom(client, "m1", "积分").splitlines()
    assert summary[:2] == ["您的 2026 年积分：180 分", "分项：学习 75 · 出勤 5"]


def test_split_adjustments_add_up_over_the_calendar_month(app_rt):
    """3 × 5 with a limit of 10: the third waits, counting absolute values, pending requests and anyone's."""
    client, rt = app_rt
    with rt.session() as s:  # last month's adjustments do not count
        pts.award(s, rt.config, member(s, "m1"), "manual", on=dt.date(2026, 10, 31), reason="上月", source="chat",
                  actor="sec", points=9)
    assert say_wecom(client, "sec", "加分 m1 5 协助组织学习").startswith("已记入")
    assert say_wecom(client, "sec", "扣分 m1 5 无故缺席").startswith("已记入")  # |+5| + |-5| = 10, not 0
    third = say_wecom(client, "sec", "加分 m1 5 协助组织主题党日")
    assert "本月对该党员的调整累计 15 分（含待审和本次），超过 10 分的限额，已提交党委审批" in third
    assert ledger(rt, "m1") == [(9, "manual", "sec"), (5, "manual", "sec"), (-5, "manual", "sec")]
    # the pending request counts too, whoever adjusts next: even one point more waits
    assert "累计 16 分" in say_wecom(client, "cw", "加分 m1 1 补充")
    assert say_wecom(client, "sec", "加分 m2 3 帮忙").startswith("已记入")  # another member has their own sum
    with rt.session() as s:
        waiting = s.exec(select(Approval).where(Approval.status == "pending").order_by(Approval.number)).all()
        assert [(a.needs_role, approvals_points(a)) for a in waiting] == [("committee", 5), ("committee", 1)]
    assert ledger(rt, "m1")[-1] == (-5, "manual", "sec")  # nothing written for the waiting ones
    clock.freeze(DEFAULT_NOW + dt.timedelta(days=6))  # 1 December: a new month starts from zero
    assert say_wecom(client, "sec", "加分 m1 5 十二月").startswith("已记入")


def approvals_points(request) -> int:
    return json.loads(request.payload)["points"]


def test_negative_points_answer_the_usage(app_rt):
    client, rt = app_rt
    usage = "{} 成员 分值 原因（成员写工号或姓名，分值写正数）"
    assert say_wecom(client, "sec", "扣分 m1 -2 迟到").startswith("格式：" + usage.format("扣分"))
    assert say_wecom(client, "sec", "加分 m1 -2 迟到").startswith("格式：" + usage.format("加分"))
    assert say_wecom(client, "sec", "扣分 m1 －2 迟到").startswith("格式：扣分")  # full-width minus too
    assert ledger(rt, "m1") == []


def test_say_passes_a_negative_number_through(sqlite_url):
    rt = make_runtime(sqlite_url)
    add_roster(rt)
    rt.close()
    env = {"DANGJIAN_DATABASE_URL": sqlite_url, "DANGJIAN_NOW": "2026-11-25T09:00", "DANGJIAN_CONFIG": None}
    result = CliRunner().invoke(cli, ["say", "--user", "sec", "扣分", "m1", "-2", "原因"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("格式：扣分 成员 分值 原因（成员写工号或姓名，分值写正数）")


def test_two_adjustments_at_once_cannot_both_stay_under_the_limit(postgres_url):
    """The second of two concurrent 加分 6 waits for the first (row lock) and then sees it: it needs approval."""
    rt = make_runtime(postgres_url)
    try:
        _race(rt)
    finally:
        rt.close()


def _race(rt) -> None:
    add_roster(rt)
    results: list[object] = []

    def second() -> None:
        with rt.session() as s:
            results.append(points_admin.adjust(s, rt.config, member(s, "cw"), member(s, "m1"), 6, "二"))

    with rt.session() as s:
        first = points_admin.adjust(s, rt.config, member(s, "sec"), member(s, "m1"), 6, "一")
        assert isinstance(first, LedgerEntry)
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(timeout=1)  # still blocked on the row lock while this transaction is open
    worker.join()
    assert len(results) == 1
    assert isinstance(results[0], Approval)
    assert ledger(rt, "m1") == [(6, "manual", "sec")]
