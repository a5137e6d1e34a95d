"""问题与建议 through signed WeCom callbacks: lifecycle, working-day deadlines, monthly points cap, reopening,
escalation along the branch chain and anonymity; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot import clock
from bot.models import (
    AuditLog,
    Branch,
    Delivery,
    InboundMessage,
    LedgerEntry,
    Member,
    OutboundMessage,
    Ticket,
    TicketEscalation,
    TicketEvent,
)
from bot.seal import decrypt, report_seal
from bot.web import build_app
from scheduler import jobs
from tests.callbacks import WECOM, say_wecom
from tests.conftest import make_runtime
from tests.helpers import add_roster, texts_to

TZ = clock.tz()


def ledger(rt, userid: str) -> list[tuple[str, int]]:
    with rt.session() as s:
        member = s.exec(select(Member).where(Member.userid == userid)).one()
        stmt = select(LedgerEntry).where(LedgerEntry.member_id == member.id).order_by(LedgerEntry.id)
        return [(e.rule, e.points) for e in s.exec(stmt)]


def test_ticket_lifecycle(app_rt):
    client, rt = app_rt
    assert say_wecom(client, "m1", "反映").startswith("格式：反映 内容（至少 4 个字）")
    reply = say_wecom(client, "m1", "反映 食堂饭菜太咸了，希望改进")
    assert reply == "已收到您的反映，编号 #1（生活服务），请在 2026-12-02 前等待答复。回复「进度 1」查看进展。"
    assert texts_to(rt, "sec")[-1].startswith("新的反映 #1（生活服务），反映人：党员乙")
    assert say_wecom(client, "m1", "定级 1 一般") == "仅限支部书记使用"
    assert say_wecom(client, "sec", "定级 1 特急").startswith("格式：定级 编号 急难|重大|一般|萌芽")
    assert say_wecom(client, "sec", "定级 #1 急难") == "#1 定为「急难」，办理期限 2026-11-26（按工作日计）。"
    assert say_wecom(client, "sec", "指派 1 m2") == "#1 已指派给 党员丙，已通知本人。"
    assert texts_to(rt, "m2")[-1].startswith("您被指定为 #1（生活服务）的第一责任人，期限 2026-11-26")
    assert say_wecom(client, "sec", "回复 1 已请食堂调整口味") == "已把答复发给 #1 的反映人。"
    assert say_wecom(client, "m2", "满意 1") == "只有反映人可以评价 #1。"
    assert say_wecom(client, "m1", "满意 1") == "#1 还没有办结，办结后再评价。"
    assert say_wecom(client, "sec", "办结 1 食堂已减盐") == "#1 已办结，已请反映人评价。"
    told = texts_to(rt, "m1")
    assert told == ["您反映的 #1 已定为「急难」，办理期限 2026-11-26。", "您反映的 #1 已由 党员丙 负责办理。",
                    "对您反映的 #1 的答复：已请食堂调整口味",
                    "您反映的 #1 已办结：食堂已减盐\n请回复「满意 1」或「不满意 1」评价。"]
    view = say_wecom(client, "m1", "进度 1").splitlines()
    assert view[0] == "#1 反映（生活服务）：已办结"
    assert "反映人" not in "".join(view)  # the reporter's own view
    assert view[-1] == "请回复「满意 1」或「不满意 1」评价。"
    assert say_wecom(client, "m1", "满意 #1") == "感谢评价！#1 已销号。"
    assert say_wecom(client, "m1", "不满意 1") == "#1 已经评价过了。"
    assert "反映人：党员乙" in say_wecom(client, "sec", "进度 1")
    assert say_wecom(client, "m2", "进度 1") == "#1 不是您可以查看或办理的问题。"
    say_wecom(client, "m2", "反映 车间照明坏了一周")
    assert say_wecom(client, "sec", "进度").splitlines() == [
        "本支部待办问题 1 件：", "#2 反映：车间照明坏了一周…（未定级，期限 2026-12-02）", "回复「进度 编号」查看详情。"]
    assert say_wecom(client, "m2", "进度").splitlines()[:2] == [
        "您反映的问题（最近 10 条）：", "#2 反映：车间照明坏了一周…（处理中）"]
    assert ledger(rt, "m1") == [("problem_reported", 1)]
    assert ledger(rt, "m2") == [("problem_reported", 1)]


def test_suggestion_adopted_earns_points(app_rt):
    client, rt = app_rt
    assert "编号 #1" in say_wecom(client, "m2", "建议 班车增加晚班一趟")
    assert say_wecom(client, "sec", "采纳 1") == "#1 已采纳，已通知建议人。"
    assert say_wecom(client, "sec", "采纳 1") == "#1 已经采纳过了。"
    assert ledger(rt, "m2") == [("suggestion_adopted", 3)]
    say_wecom(client, "m1", "反映 车间照明坏了")
    assert say_wecom(client, "sec", "采纳 2") == "#2 不是建议，只有建议可以采纳。"


def test_unsatisfied_reopens_once(app_rt):
    client, rt = app_rt
    say_wecom(client, "m1", "反映 宿舍热水不稳定")
    say_wecom(client, "sec", "定级 1 一般")
    say_wecom(client, "sec", "办结 1 已报修")
    assert say_wecom(client, "m1", "不满意 1") == "已记录您的不满意，#1 重新办理，期限 2026-12-02。"
    assert "重新办理" in texts_to(rt, "sec")[-1]
    assert say_wecom(client, "sec", "办结 1 已更换热水器")
    assert say_wecom(client, "m1", "不满意 1") == "已记录您对 #1 的不满意评价，并报支部书记。"
    with rt.session() as s:
        t = s.exec(select(Ticket)).one()
        assert (t.status, t.rating, t.reopened) == ("closed", "unsatisfied", 1)


@pytest.mark.parametrize(("grade", "due"), [("急难", "2026-11-26"), ("重大", "2026-11-30"), ("一般", "2026-12-02"),
                                            ("萌芽", "2026-12-09")])
def test_grade_deadlines_count_working_days(app_rt, grade, due):
    client, _ = app_rt
    say_wecom(client, "m1", "反映 设备有安全隐患")
    assert say_wecom(client, "sec", f"定级 1 {grade}") == f"#1 定为「{grade}」，办理期限 {due}（按工作日计）。"


def test_deadline_skips_the_national_day_holiday(backend):
    rt = make_runtime(backend, wecom=WECOM)
    clock.freeze(dt.datetime(2026, 9, 30, 9, 0, tzinfo=TZ))
    add_roster(rt)
    client = build_app(runtime=rt).test_client()
    say_wecom(client, "m1", "反映 消防通道被堵")
    assert say_wecom(client, "sec", "定级 1 急难") == "#1 定为「急难」，办理期限 2026-10-08（按工作日计）。"
    rt.close()


def test_problem_reported_is_capped_per_month(app_rt):
    client, rt = app_rt
    for n in range(4):
        say_wecom(client, "m1", f"反映 第{n + 1}个问题需要处理")
    say_wecom(client, "m1", "建议 多组织读书活动")
    say_wecom(client, "m1", "匿名反映 有人迟到早退")
    clock.configure("Asia/Shanghai", dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    say_wecom(client, "m1", "反映 十二月的问题")
    assert ledger(rt, "m1") == [("problem_reported", 1)] * 3 + [("problem_reported", 0), ("problem_reported", 1)]
    with rt.session() as s:
        capped = s.exec(select(LedgerEntry).where(LedgerEntry.points == 0)).one()
        assert capped.reason == "超出每月上限：反映问题 #4"


def test_overdue_ticket_escalates_once_per_level(app_rt):
    client, rt = app_rt
    with rt.session() as s:  # a three-level chain: b1 → general branch zb → committee dw
        dw = s.exec(select(Branch).where(Branch.code == "dw")).one()
        zb = Branch(code="zb", name="机关总支", level="general_branch", parent_id=dw.id)
        s.add(zb)
        s.flush()
        s.exec(select(Branch).where(Branch.code == "b1")).one().parent_id = zb.id
        s.add(Member(userid="zs", name="总支书记", branch_id=zb.id, roles="member;secretary"))
    say_wecom(client, "m1", "反映 消防器材过期")
    say_wecom(client, "sec", "定级 1 急难")  # due 2026-11-26
    job = jobs.get("ticket_escalation")
    assert job.run(rt, dt.date(2026, 11, 26)) == "supervision_notices=0 commitments_escalated=0"
    clock.configure("Asia/Shanghai", dt.datetime(2026, 11, 27, 9, 0, tzinfo=TZ))
    assert job.run(rt, dt.date(2026, 11, 27)) == "supervision_notices=1 commitments_escalated=0"
    notice = texts_to(rt, "zs")[-1]
    assert notice.startswith("督办通知：第一党支部 的反映 #1（安全生产，急难）已超过办理期限 2026-11-26")
    assert "提交 机关总支 督办" in notice
    assert "党员乙" not in notice
    assert texts_to(rt, "m1")[-1] == "您反映的 #1 已逾期，已提交 机关总支 督办。"
    assert job.run(rt, dt.date(2026, 11, 27)) == "supervision_notices=0 commitments_escalated=0"
    assert say_wecom(client, "zs", "回复 1 总支已督促") == "已把答复发给 #1 的反映人。"  # the level may act
    clock.configure("Asia/Shanghai", dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ))  # new due 2026-11-30 passed
    assert job.run(rt, dt.date(2026, 12, 1)) == "supervision_notices=1 commitments_escalated=0"
    assert texts_to(rt, "cw")[-1].startswith("督办通知：第一党支部 的反映 #1")
    clock.configure("Asia/Shanghai", dt.datetime(2026, 12, 10, 9, 0, tzinfo=TZ))
    assert job.run(rt, dt.date(2026, 12, 10)) == "supervision_notices=0 commitments_escalated=0"  # top reached
    with rt.session() as s:
        levels = [e.branch_id for e in s.exec(select(TicketEscalation).order_by(TicketEscalation.id))]
        assert len(levels) == 2
        assert s.exec(select(Ticket)).one().level == 2


def test_anonymous_reporter_is_never_revealed(app_rt):
    client, rt = app_rt
    reply = say_wecom(client, "m1", "匿名反映 有领导公车私用")
    assert reply.startswith("已匿名收到您的反映，编号 #1")
    with rt.session() as s:
        t = s.exec(select(Ticket)).one()
        assert t.reporter_id is None
        assert t.reporter_ref == report_seal(rt.config, "m1", t.number)
        assert t.category == "廉洁纪律"
    view = say_wecom(client, "sec", "进度 1")
    assert "反映人：匿名" in view
    assert "党员乙" not in view
    assert "m1" not in view
    assert "反映人：匿名" in texts_to(rt, "sec")[-1]
    say_wecom(client, "sec", "定级 1 重大")
    say_wecom(client, "sec", "回复 1 已转纪委核实")
    say_wecom(client, "sec", "办结 1 已查实处理")
    # the reporter is told there is news, without the number or the text, on sealed deliveries
    assert texts_to(rt, "m1") == []
    with rt.session() as s:
        sealed = list(s.exec(select(OutboundMessage, Delivery).join(Delivery).where(OutboundMessage.sealed,
                                                                                    OutboundMessage.reply)))
        assert len(sealed) == 3
        assert {decrypt(rt.config, d.recipient) for _, d in sealed} == {"m1"}
        assert {m.payload for m, _ in sealed} == {'{"content": "您匿名反映的问题有新进展，回复「进度」查看。"}'}
    assert "#1 匿名反映：有领导公车私用…（已办结）" in say_wecom(client, "m1", "进度")
    assert say_wecom(client, "m2", "满意 1") == "只有反映人可以评价 #1。"
    assert say_wecom(client, "m1", "满意 1") == "感谢评价！#1 已销号。"
    assert ledger(rt, "m1") == []  # no points: the ledger would name the reporter
    with rt.session() as s:
        rows = list(s.exec(select(InboundMessage)))
        assert rows
        assert all(m.sender == "" and m.payload is None for m in rows)  # no sender once handled
        assert not [m for m in rows if "匿名反映" in m.content]  # the report's row keeps no content
        actors = {e.actor for e in s.exec(select(TicketEvent))} | {a.actor for a in s.exec(select(AuditLog))}
        assert "m1" not in actors
        stmt = (select(OutboundMessage).join(Delivery, Delivery.message_id == OutboundMessage.id)
                .where(Delivery.recipient == "m1"))
        for message in s.exec(stmt):
            assert "#1" not in message.payload
            assert "ticket" not in (message.key or "")


def test_assign_stays_within_the_ticket_branch_and_the_assignee_may_close(app_rt):
    client, rt = app_rt
    with rt.session() as s:
        top = s.exec(select(Branch).where(Branch.code == "dw")).one()
        b2 = Branch(code="b2", name="第二党支部", parent_id=top.id)
        s.add(b2)
        s.flush()
        s.add(Member(userid="x2", name="外支部党员", branch_id=b2.id))
        s.add(Member(userid="y2", name="外支部书记", branch_id=b2.id, roles="member;secretary"))
    say_wecom(client, "m1", "反映 车间东门照明坏了一周")
    refused = say_wecom(client, "sec", "指派 1 x2")
    assert refused == "外支部党员 不在 #1 所属支部，不能指派，未通知任何人。请指派本支部党员。"
    assert "不在 #1 所属支部" in say_wecom(client, "cw", "@b2 指派 1 y2")  # not through @code either
    assert texts_to(rt, "x2") == []
    assert texts_to(rt, "y2") == []
    with rt.session() as s:
        assert s.exec(select(Ticket)).one().assignee_id is None
        assert s.exec(select(AuditLog).where(AuditLog.action == "ticket_assign")).all() == []
    assert say_wecom(client, "cw", "指派 1 cw") == "#1 已指派给 委员戊，已通知本人。"  # the committee may take it
    assert say_wecom(client, "sec", "指派 1 m2") == "#1 已指派给 党员丙，已通知本人。"
    assert "办结 1 说明" in texts_to(rt, "m2")[-1]
    # the assignee (no secretary) answers and closes their own ticket; other members still may not
    assert say_wecom(client, "m1", "回复 1 我来答复") == "仅限支部书记使用"
    assert say_wecom(client, "m2", "回复 1 已报修，明天换灯") == "已把答复发给 #1 的反映人。"
    assert say_wecom(client, "m2", "办结 1 灯已换好") == "#1 已办结，已请反映人评价。"
    assert texts_to(rt, "m1")[-1].startswith("您反映的 #1 已办结：灯已换好")
    member_help = say_wecom(client, "m2", "帮助")
    assert "办结" not in member_help  # 帮助 lists only what every member may run
    assert "反映" in member_help
