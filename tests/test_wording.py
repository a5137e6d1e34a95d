"""The wording pass (#12 item 12) as dialogs through signed WeCom callbacks on SQLite and PostgreSQL: one
「原因：」 per rejected leave and what to do next, 「明日主题党日」 never on the day itself, 补签 for a holiday says
there was no study that day, and the no-content loop (已学 ↔ 学习) ends with what to do."""

from __future__ import annotations

import re

from bot import clock
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.callbacks import say_wecom
from tests.study_helpers import add_items, item


def _number(reply: str) -> int:
    return int(re.search(r"#(\d+)", reply).group(1))


def test_a_rejected_leave_has_one_reason_and_says_what_to_do(app_rt):
    client, rt = app_rt
    say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习党章")
    leave = _number(say_wecom(client, "m2", "请假 家里有事"))
    assert "已驳回" in say_wecom(client, "sec", f"驳回 {leave} 这次要表决，请尽量参加")
    [told] = [t for t in queued(rt, "m2") if "未通过" in t]
    assert told.count("原因：") == 1, told  # the member's reason, once; the secretary's is the 驳回理由
    assert "原因：家里有事" in told
    assert "驳回理由：这次要表决，请尽量参加" in told
    assert "请按时参加主题党日" in told
    assert "「请假 原因」" in told
    again = say_wecom(client, "m2", "请假 还是有事")  # a new request after the rejection
    assert "请假申请已提交" in again
    assert "销假" in say_wecom(client, "m2", "请假 仍然有事")  # pending: says how to withdraw


def test_the_reminder_on_the_day_itself_never_says_tomorrow(app_rt):
    """An event published in the morning for the evening: no day-before reminder (its window has passed), and
    the reminder that does go, two hours before, never says 「明日」."""
    client, rt = app_rt
    move(at(2026, 11, 26, 9, 0))
    say_wecom(client, "sec", "发布主题党日 2026-11-26 19:30 会议室 学习党章")
    published = len(queued(rt, "m1"))
    run_job(rt, "theme_day_reminders", clock.today())
    assert len(queued(rt, "m1")) == published  # 09:00: neither reminder is due yet
    move(at(2026, 11, 26, 17, 40))
    run_job(rt, "theme_day_reminders", clock.today())
    reminder = queued(rt, "m1")[-1]
    assert len(queued(rt, "m1")) == published + 1
    assert "明日" not in reminder
    assert "学习党章" in reminder
    move(at(2026, 11, 27, 9, 30))  # published the day before: 「明日」 is right then
    say_wecom(client, "sec", "发布主题党日 2026-11-28 09:00 会议室 学习党章")
    move(at(2026, 11, 27, 10, 0))
    run_job(rt, "theme_day_reminders", clock.today())
    assert "明日主题党日" in queued(rt, "m1")[-1]


def test_make_up_for_a_holiday_says_there_was_no_study(app_rt):
    client, rt = app_rt
    add_items(rt, item("w1"))
    move(at(2026, 11, 23, 9, 0))  # a Monday: yesterday was a Sunday
    reply = say_wecom(client, "m1", "补签 昨天 在外地")
    assert "2026-11-22 是节假日或周末，那天没有晨学" in reply
    assert "不用补签" in reply
    assert "不影响连续学习" in reply
    workday = say_wecom(client, "m1", "补签 2026-11-20 在外地")  # a Friday without a published item
    assert "没有推送晨学内容" in workday
    assert "不用补签" in workday


def test_the_no_content_loop_ends_with_what_to_do(app_rt):
    """Nothing to study today: 已学 no longer sends the member to 「学习」 and back; both say what to do."""
    client, rt = app_rt
    for said in ("已学", "学习", "学完了", "学习"):
        reply = say_wecom(client, "m1", said)
        assert "还在准备中" in reply, (said, reply)
        assert "告诉支部书记" in reply, (said, reply)
        assert "先回复「学习」" not in reply
    add_items(rt, item("a1"))  # content now exists but did not reach the member yet: 学习 first, then 已学
    assert "先回复「学习」" in say_wecom(client, "m1", "已学")
    assert "标题a1" in say_wecom(client, "m1", "学习")
    assert "打卡成功" in say_wecom(client, "m1", "已学")
