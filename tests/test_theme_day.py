"""Theme party day by chat through signed WeCom callbacks: publish (secretary only), notices, 参加, 请假 and
its approval, sign-in codes (right, wrong, not yet open, expired, late), 出勤, 推迟 and 取消, closing with
points, and the group robot through the fake server; SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlmodel import select

from bot import outbox
from bot.models import Attendance, LedgerEntry, ThemeDay
from bot.web import build_app
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.callbacks import AES_KEY, CORP_ID, TOKEN, say_wecom
from tests.helpers import add_roster

pytest_plugins = ("tests.fakewecom",)


def _number(reply: str) -> int:
    return int(re.search(r"#(\d+)", reply).group(1))


def _rows(rt, number):
    with rt.session() as s:
        event = s.exec(select(ThemeDay).where(ThemeDay.number == number)).one()
        return event, {a.member_id: a for a in s.exec(select(Attendance).where(Attendance.event_id == event.id))}


def test_publish_is_for_secretaries_and_notifies_the_branch(app_rt):
    client, rt = app_rt
    command = "发布主题党日 2026-12-05 14:30 三楼会议室 学习党章 重温入党誓词"
    assert say_wecom(client, "m1", command) == "仅限支部书记使用"
    assert "格式" in say_wecom(client, "sec", "发布主题党日 明天下午")
    assert "已经过去" in say_wecom(client, "sec", "发布主题党日 2026-11-01 14:30 会议室 学习")
    reply = say_wecom(client, "sec", command)
    assert "已通知支部 3 名党员" in reply
    number = _number(reply)
    for userid in ("sec", "m1", "m2"):
        [notice] = queued(rt, userid)
        assert "2026-12-05 14:30" in notice
        assert "学习党章 重温入党誓词" in notice
        assert "三楼会议室" in notice
    assert queued(rt, "gone") == []
    assert queued(rt, "cw") == []
    event, _ = _rows(rt, number)
    assert (event.status, event.place, event.online) == ("scheduled", "三楼会议室", False)
    assert "主题党日" in say_wecom(client, "sec", "帮助")  # the area is offered
    assert "发布主题党日 日期 时间 地点 主题" in say_wecom(client, "sec", "帮助 主题党日")
    assert "发布主题党日" not in say_wecom(client, "m1", "帮助 主题党日")
    assert "已发布主题党日" in say_wecom(client, "cw", "@b1 发布主题党日 2026-12-06 09:00 线上 学习")
    with rt.session() as s:
        online = s.exec(select(ThemeDay).where(ThemeDay.number != number)).one()
        assert online.online
        assert online.created_by == "cw"


def test_rsvp_leave_sign_in_attendance_and_close(app_rt):
    client, rt = app_rt
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习"))
    assert "已确认参加" in say_wecom(client, "m1", "参加")
    assert "您已确认参加" in say_wecom(client, "m1", "参加")
    assert "说明原因" in say_wecom(client, "m2", "请假")
    leave = _number(say_wecom(client, "m2", "请假 家中有事"))
    assert "正在审批" in say_wecom(client, "m2", "请假 还是有事")
    assert f"#{leave}" in say_wecom(client, "sec", "待审")
    assert f"#{leave}" in say_wecom(client, "sec", f"通过 {leave}")
    _, rows = _rows(rt, number)
    assert {a.rsvp for a in rows.values()} == {"going", "leave"}
    code_reply = say_wecom(client, "sec", "签到码")
    code = re.search(r"签到码：(\d{4})", code_reply).group(1)
    move(at(2026, 12, 5, 13, 0))
    assert "还未开始签到" in say_wecom(client, "m1", f"签到 {code}")
    move(at(2026, 12, 5, 14, 20))
    wrong = "0000" if code != "0000" else "1111"
    assert "不正确" in say_wecom(client, "m1", f"签到 {wrong}")
    assert "签到成功：" in say_wecom(client, "m1", f"签到 {code}")
    for _ in range(5):
        assert "不正确" in say_wecom(client, "m2", f"签到 {wrong}")
    assert "错误次数过多" in say_wecom(client, "m2", f"签到 {code}")  # a guesser is stopped
    assert "已经签到" in say_wecom(client, "m1", f"签到 {code}")
    move(at(2026, 12, 5, 14, 45))
    assert "迟到" in say_wecom(client, "sec", f"签到 {code}")
    attendance = say_wecom(client, "sec", "出勤")
    assert "签到 2 人（其中迟到 1 人），请假 1 人，未签到 0 人，应到 3 人" in attendance
    move(at(2026, 12, 5, 18, 31))
    assert "没有可以签到" in say_wecom(client, "m2", f"签到 {code}")  # expired
    assert run_job(rt, "theme_day_close", at(2026, 12, 5).date()) == "done"
    assert run_job(rt, "theme_day_close", at(2026, 12, 5).date()) == "done"  # nothing left to close
    event, rows = _rows(rt, number)
    assert event.status == "held"
    assert sorted(a.result for a in rows.values()) == ["excused", "late", "present"]
    with rt.session() as s:
        ledger = sorted((e.rule, e.points) for e in s.exec(select(LedgerEntry)))
    assert ledger == [("theme_day_attend", 5), ("theme_day_attend", 5), ("theme_day_late", -1)]
    assert any("无故缺席 0 人" in t for t in queued(rt, "sec"))


def test_postpone_and_cancel(app_rt):
    client, rt = app_rt
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习"))
    assert "格式" in say_wecom(client, "sec", "推迟 12")
    assert "没有找到" in say_wecom(client, "sec", "推迟 999 2026-12-08 14:30")
    assert "推迟到 2026-12-08 14:30" in say_wecom(client, "sec", f"推迟 #{number} 2026-12-08 14:30")
    assert any("改到 2026-12-08 14:30" in t for t in queued(rt, "m1"))
    assert "已取消" in say_wecom(client, "sec", f"取消 {number}")
    assert "不能再调整" in say_wecom(client, "sec", f"推迟 {number} 2026-12-09 14:30")
    assert any("取消" in t for t in queued(rt, "m2"))
    assert "没有待开" in say_wecom(client, "m1", "参加")
    assert say_wecom(client, "m1", f"取消 {number}") == "仅限支部书记使用"
    assert "仅限" not in say_wecom(client, "m1", "取消免打扰")  # still the member's own command


def test_notices_reach_the_group_robot(make_rt, fake_wecom):
    hooks = {"b1": f"{fake_wecom.url}/cgi-bin/webhook/send?key=K1"}
    rt = make_rt(wecom={"corp_id": CORP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY},
                 robot={"webhooks": hooks})
    add_roster(rt)
    client = build_app(runtime=rt).test_client()
    number = _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习党章"))
    outbox.Worker(rt, "w").drain()
    [post] = fake_wecom.robots["K1"]
    assert post["msgtype"] == "markdown"
    assert "学习党章" in post["markdown"]["content"]
    assert "第一党支部" in post["markdown"]["content"]
    assert sorted(fake_wecom.delivered) == ["m1", "m2", "sec"]
    say_wecom(client, "sec", f"取消 {number}")
    outbox.Worker(rt, "w").drain()
    assert len(fake_wecom.robots["K1"]) == 2
