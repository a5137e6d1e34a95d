"""Political birthdays: greetings on the day (Feb 29 in common years, members without a date), opt-out by
app_rt, the secretary's talk task closed with 完成, and the month's list; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.models import Member, Task
from bot.services import birthday
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.callbacks import say_wecom
from tests.conftest import make_runtime
from tests.helpers import add_roster

TODAY = dt.date(2026, 11, 25)


def _tasks(rt):
    with rt.session() as s:
        return list(s.exec(select(Task).order_by(Task.number)))


def test_greeting_on_the_day_with_party_age_and_a_talk_task(app_rt):
    client, rt = app_rt
    assert run_job(rt, "political_birthday", TODAY) == "done"
    [greeting] = queued(rt, "m1")
    assert "政治生日" in greeting
    assert "2010-11-25" in greeting
    assert "已走过 16 年" in greeting
    assert "党龄 15 年" in greeting
    assert queued(rt, "m2") == []  # no date: skipped
    [task] = _tasks(rt)
    assert (task.kind, task.status) == ("talk", "open")
    assert any(f"完成 {task.number}" in text for text in queued(rt, "sec"))
    assert run_job(rt, "political_birthday", TODAY) == "already done"
    with rt.write() as s:  # forced again: same keys, nothing new
        birthday.greet(s, rt.config, TODAY)
    assert len(queued(rt, "m1")) == 1
    assert len(_tasks(rt)) == 1
    assert "仅限支部书记" in say_wecom(client, "m1", f"完成 {task.number}")
    assert "已完成销号" in say_wecom(client, "sec", f"完成 #{task.number} 已谈心")
    assert "已经完成" in say_wecom(client, "sec", f"完成 {task.number}")
    assert _tasks(rt)[0].status == "done"


def test_feb_29_is_celebrated_on_feb_28_in_common_years(app_rt):
    _, rt = app_rt
    with rt.write() as s:
        m = s.exec(select(Member).where(Member.userid == "m2")).one()
        m.joined_on, m.full_member_on = dt.date(2004, 2, 29), dt.date(2005, 3, 1)
        s.add(m)
    move(at(2027, 2, 28, 8, 30))
    assert run_job(rt, "political_birthday", dt.date(2027, 2, 28)) == "done"
    [text] = queued(rt, "m2")
    assert "已走过 23 年" in text
    assert "党龄 21 年" in text
    with rt.session() as s:
        assert [m.userid for m in birthday.due(s, rt.config, dt.date(2028, 2, 28))] == []
        assert [m.userid for m in birthday.due(s, rt.config, dt.date(2028, 2, 29))] == ["m2"]
    assert birthday.celebrated_on(dt.date(2004, 2, 29), 2027, "mar1") == dt.date(2027, 3, 1)


def test_full_member_date_can_be_the_birthday(backend):
    rt = make_runtime(backend, app={"political_birthday": "full_member_on"})
    add_roster(rt)
    with rt.session() as s:
        assert birthday.due(s, rt.config, TODAY)[0].userid == "m1"
        assert birthday.due(s, rt.config, dt.date(2026, 7, 1))[0].userid == "sec"
    rt.close()


def test_opt_out_and_back_in_by_chat(app_rt):
    client, rt = app_rt
    assert "已退订" in say_wecom(client, "m1", "退订生日")
    assert "已经退订" in say_wecom(client, "m1", "退订生日")
    run_job(rt, "political_birthday", TODAY)
    assert queued(rt, "m1") == []
    assert len(_tasks(rt)) == 1  # the secretary still talks with the member
    assert "已恢复" in say_wecom(client, "m1", "订阅生日")
    helped = say_wecom(client, "m1", "帮助 设置")
    assert "退订生日" in helped
    assert "发布主题党日" not in helped


def test_month_list_on_the_first(app_rt):
    _, rt = app_rt
    assert run_job(rt, "birthday_list", dt.date(2026, 11, 2)) == "skipped"
    move(at(2026, 11, 1, 8, 30))
    assert run_job(rt, "birthday_list", dt.date(2026, 11, 1)) == "done"
    [text] = queued(rt, "sec")
    assert "11 月政治生日党员 1 人" in text
    assert "党员乙" in text
    assert "入党誓词" in text
    assert queued(rt, "m1") == []
