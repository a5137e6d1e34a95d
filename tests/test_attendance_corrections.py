"""Attendance corrections by chat: 补签到 / 准假 (secretaries) before and after a theme day closes, and 销假
(a member withdraws their own leave); corrections after close are new ledger entries. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import select

from bot.models import Approval, Attendance, Branch, LedgerEntry, Member, Task, ThemeDay
from bot.services.points import core as points
from bot.services.study import core as study
from scheduler.runner import run_job
from tests.attendance_helpers import at, member, move
from tests.callbacks import say_wecom
from tests.study_helpers import add_items, item


def _number(reply: str) -> int:
    return int(re.search(r"#(\d+)", reply).group(1))


def _publish_and_lock_out_m1(client) -> int:
    """An event; m1 mistypes the code five times and is locked out of 签到."""
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习"))
    code = re.search(r"签到码：(\d{4})", say_wecom(client, "sec", "签到码")).group(1)
    move(at(2026, 12, 5, 14, 20))
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(5):
        say_wecom(client, "m1", f"签到 {wrong}")
    assert "错误次数过多" in say_wecom(client, "m1", f"签到 {code}")
    return number


def _close(rt) -> None:
    move(at(2026, 12, 5, 18, 31))
    assert run_job(rt, "theme_day_close", at(2026, 12, 5).date()) == "done"


def _state(rt, number: int, userid: str):
    """(attendance row, ledger (rule, points, reason) of the member, follow-up task, year total)."""
    with rt.session() as s:
        event = s.exec(select(ThemeDay).where(ThemeDay.number == number)).one()
        who = member(s, userid)
        row = s.exec(select(Attendance).where(Attendance.event_id == event.id, Attendance.member_id == who.id)).first()
        ledger = [(e.rule, e.points, e.reason) for e in s.exec(select(LedgerEntry).where(
            LedgerEntry.member_id == who.id).order_by(LedgerEntry.id))]
        task = s.exec(select(Task).where(Task.key == f"followup:{number}:{who.id}")).first()
        return row, ledger, task, points.total(s, rt.config, who, 2026)


def test_manual_sign_in_before_close_counts_as_present(app_rt):
    client, rt = app_rt
    number = _publish_and_lock_out_m1(client)
    assert "已为 党员乙 补签到" in say_wecom(client, "sec", f"补签到 #{number} 党员乙")  # by roster name
    assert "已经签到过" in say_wecom(client, "sec", f"补签到 {number} m1")  # idempotent
    assert "已为 党员丙 补签到" in say_wecom(client, "cw", f"@b1 补签到 {number} m2")  # committee with @b1
    _close(rt)
    row, ledger, task, total = _state(rt, number, "m1")
    assert (row.result, row.late) == ("present", False)
    assert [(r, p) for r, p, _ in ledger] == [("theme_day_attend", 5)]
    assert task is None
    assert total == rt.config.points.base + 5


def test_manual_sign_in_after_close_adds_correction_entries(app_rt):
    client, rt = app_rt
    number = _publish_and_lock_out_m1(client)
    _close(rt)
    row, ledger, task, total = _state(rt, number, "m1")
    assert row.result == "absent"
    assert task.status == "open"
    assert total == rt.config.points.base - 5
    reply = say_wecom(client, "sec", f"补签到 {number} m1")
    assert "退回缺席扣分 5 分" in reply
    assert "跟进任务已关闭" in reply
    row, ledger, task, total = _state(rt, number, "m1")
    assert row.result == "present"
    assert [(r, p) for r, p, _ in ledger] == [("theme_day_absent", -5), ("theme_day_attend", 5),
                                              ("theme_day_absent", 5)]
    assert f"#{number}" in ledger[-1][2]  # the reversal names the event
    assert (task.status, task.done_by) == ("done", "sec")
    assert total == rt.config.points.base + 5
    assert "已经签到过" in say_wecom(client, "sec", f"补签到 {number} m1")
    assert len(_state(rt, number, "m1")[1]) == 3  # nothing written twice


def test_excuse_after_close_reverses_the_absence(app_rt):  # m1: a regular member, penalised when absent
    client, rt = app_rt
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习"))
    _close(rt)
    assert "格式：准假 编号 成员 原因" in say_wecom(client, "sec", f"准假 {number} m1")  # the reason is needed
    reply = say_wecom(client, "sec", f"准假 {number} 党员乙 临时出差")
    assert "退回缺席扣分 5 分" in reply
    row, ledger, task, total = _state(rt, number, "m1")
    assert row.result == "excused"
    assert [(r, p) for r, p, _ in ledger] == [("theme_day_absent", -5), ("theme_day_absent", 5)]
    assert "临时出差" in ledger[-1][2]
    assert task.status == "done"
    assert total == rt.config.points.base
    assert "已是请假" in say_wecom(client, "sec", f"准假 {number} m1 临时出差")
    assert len(_state(rt, number, "m1")[1]) == 2


def test_excuse_before_close_marks_excused(app_rt):
    client, rt = app_rt
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习"))
    assert "已准许 党员丙" in say_wecom(client, "sec", f"准假 #{number}，m2，临时出差")
    _close(rt)
    row, ledger, task, _ = _state(rt, number, "m2")
    assert (row.result, ledger, task) == ("excused", [], None)
    assert "已补记出席积分" in say_wecom(client, "sec", f"补签到 {number} m2")  # came after all: no absence to undo
    row, ledger, _, _ = _state(rt, number, "m2")
    assert row.result == "present"
    assert [(r, p) for r, p, _ in ledger] == [("theme_day_attend", 5)]


def test_cancel_leave_pending_and_approved(app_rt):
    client, rt = app_rt
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习"))
    assert "没有待销" in say_wecom(client, "m1", "销假")
    pending = _number(say_wecom(client, "m1", "请假 家中有事"))
    assert f"#{pending}" in say_wecom(client, "sec", "待审")
    assert f"#{number}" in say_wecom(client, "m1", "销假")
    assert f"#{pending}" not in say_wecom(client, "sec", "待审")
    assert "没有待销" in say_wecom(client, "m1", "销假")
    with rt.session() as s:
        assert s.exec(select(Approval).where(Approval.number == pending)).one().status == "withdrawn"
    approved = _number(say_wecom(client, "m2", "请假 出差"))
    say_wecom(client, "sec", f"通过 {approved}")
    assert _state(rt, number, "m2")[0].rsvp == "leave"
    assert "已销假" in say_wecom(client, "m2", "销假")
    assert [_state(rt, number, u)[0].rsvp for u in ("m1", "m2")] == [None, None]
    _close(rt)
    assert _state(rt, number, "m2")[0].result == "absent"  # expected again, and did not come


def test_refusals_and_the_members_make_up_request(app_rt):
    client, rt = app_rt
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习"))
    with rt.session() as s:
        b2 = Branch(code="b2", name="第二党支部")
        s.add(b2)
        s.flush()
        s.add(Member(userid="sec2", name="书记己", branch_id=b2.id, roles="member;secretary"))
    assert say_wecom(client, "m1", f"补签到 {number} m2") == "仅限支部书记使用"
    assert say_wecom(client, "m1", f"准假 {number} m2 有事") == "仅限支部书记使用"
    assert "没有找到" in say_wecom(client, "sec2", f"补签到 {number} m2")  # another branch's event
    assert "没有找到" in say_wecom(client, "sec", "补签到 999 m2")
    assert "不是" in say_wecom(client, "sec", f"补签到 {number} sec2")  # not of the event's branch
    assert "格式：补签到 编号 成员" in say_wecom(client, "sec", "补签到")
    assert "不能为自己" in say_wecom(client, "sec", f"补签到 {number} sec")
    assert "还未开始签到" in say_wecom(client, "sec", f"补签到 {number} m2")  # days before the event
    with rt.session() as s:
        assert s.exec(select(Attendance).where(Attendance.signed_at.is_not(None))).all() == []
    add_items(rt, item("a1"))
    with rt.session() as s:
        study.item_for(s, dt.date(2026, 11, 24))
    request = _number(say_wecom(client, "m1", "补签 2026-11-24 出差在外"))  # still study's 补签, not 补签到
    with rt.session() as s:
        assert s.exec(select(Approval).where(Approval.number == request)).one().kind == "makeup"
