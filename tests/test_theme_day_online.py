"""Online theme days by chat through signed WeCom callbacks (SQLite and PostgreSQL): `发布主题党日 日期 时间 线上
<链接> 主题` (or the link as the place) stores the meeting link; the notice, the reminders, the 参加 reply and the
postponement carry it; members who joined online sign in with the code read out in the meeting or are signed
in by the secretary (补签到)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot import clock
from bot.models import Attendance, ThemeDay
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.callbacks import say_wecom

LINK = "https://meeting.tencent.com/dm/AbC9xYz"


def _number(reply: str) -> int:
    return int(re.search(r"#(\d+)", reply).group(1))


def _event(rt, number: int) -> ThemeDay:
    with rt.session() as s:
        return s.exec(select(ThemeDay).where(ThemeDay.number == number)).one()


@pytest.mark.parametrize(("said", "place", "topic"), [
    (f"发布主题党日 2026-12-05 14:30 线上 {LINK} 学习四中全会精神", "线上", "学习四中全会精神"),
    (f"发布主题党日 12月5日 下午2点半 {LINK} 学习四中全会精神", "线上", "学习四中全会精神"),  # the link as place
    (f"发布主题党日 2026-12-05 14:30，线上，{LINK}，学习 四中全会", "线上", "学习 四中全会"),
    (f"发布主题党日 2026-12-05 14:30 三楼会议室 {LINK} 学习党章", "三楼会议室", "学习党章"),  # both ways
])
def test_publish_stores_the_link_as_sent_and_the_notice_shows_it(app_rt, said, place, topic):
    client, rt = app_rt
    reply = say_wecom(client, "sec", said)
    assert "已发布主题党日" in reply
    assert f"会议链接：{LINK}" in reply
    event = _event(rt, _number(reply))
    assert (event.place, event.topic, event.link, event.online) == (place, topic, LINK, True)
    [notice] = queued(rt, "m1")
    assert f"会议链接：{LINK}" in notice  # the case of the link is kept (matching folds, storage does not)
    assert f"地点：{place}" in notice
    assert topic in notice


def test_online_without_a_link_and_a_place_without_one(app_rt):
    client, rt = app_rt
    online = _event(rt, _number(say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 线上 学习党章")))
    assert (online.place, online.link, online.online, online.topic) == ("线上", None, True, "学习党章")
    hall = _event(rt, _number(say_wecom(client, "sec", "发布主题党日 2026-12-06 14:30 会议室 学习 https 协议")))
    assert (hall.link, hall.online, hall.topic) == (None, False, "学习 https 协议")
    assert not any("会议链接" in text for text in queued(rt, "m1"))
    assert "线上 https://" in say_wecom(client, "sec", "发布主题党日 明天")  # the usage shows the online form


def test_online_reminders_attend_postpone_and_sign_in(app_rt):
    client, rt = app_rt
    number = _number(say_wecom(client, "sec", f"发布主题党日 2026-12-05 14:30 线上 {LINK} 学习四中全会精神"))
    going = say_wecom(client, "m1", "参加")
    assert "已确认参加" in going
    assert LINK in going
    assert "签到 签到码" in going
    moved = say_wecom(client, "sec", f"推迟 {number} 2026-12-06 14:30")
    assert "推迟到 2026-12-06 14:30" in moved
    assert any("改到 2026-12-06 14:30" in t and LINK in t for t in queued(rt, "m2"))
    move(at(2026, 12, 5, 15, 0))
    run_job(rt, "theme_day_reminders", clock.today())
    day_before = queued(rt, "m1")[-1]
    assert "明日主题党日" in day_before
    assert f"会议链接：{LINK}" in day_before
    move(at(2026, 12, 6, 12, 40))
    run_job(rt, "theme_day_reminders", clock.today())
    two_hours = queued(rt, "m1")[-1]
    assert "进入会议" in two_hours
    assert "会上读出签到码" in two_hours
    assert LINK in two_hours
    code = re.search(r"签到码：(\d{4})", say_wecom(client, "sec", "签到码")).group(1)
    move(at(2026, 12, 6, 14, 25))
    assert "签到成功：" in say_wecom(client, "m1", f"签到 {code}")  # the code read out in the meeting
    assert "已为" in say_wecom(client, "sec", f"补签到 {number} m2")  # joined online, could not send the code
    event = _event(rt, number)
    with rt.session() as s:
        signed = {a.member_id for a in s.exec(select(Attendance).where(Attendance.event_id == event.id))
                  if a.signed_at is not None}
    assert len(signed) == 2

