"""Dates, times and members as people write them (CONTRACT.md "Chat input"): bot.parse on its own, then
补签 / 发布主题党日 / 推迟 with written dates and 加分 / 扣分 / 指派 / 否决 by name, through the real pipeline."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from bot import parse
from bot.models import Approval, Branch, LedgerEntry, Member, ThemeDay, Ticket, Veto
from tests.callbacks import say_wecom
from tests.study_helpers import add_items, item

TODAY = dt.date(2026, 11, 25)  # conftest's DEFAULT_NOW

DATES = [  # (text, past, expected)
    ("2026-11-23", True, dt.date(2026, 11, 23)),
    ("2026/11/23", True, dt.date(2026, 11, 23)),
    ("2026.11.23", False, dt.date(2026, 11, 23)),
    ("2026年11月23日", True, dt.date(2026, 11, 23)),
    ("11月23日", True, dt.date(2026, 11, 23)),
    ("11月23日", False, dt.date(2027, 11, 23)),  # the earliest 11-23 not in the past
    ("11-23", True, dt.date(2026, 11, 23)),
    ("11/23", False, dt.date(2027, 11, 23)),
    ("12-05", False, dt.date(2026, 12, 5)),
    ("12-05", True, dt.date(2025, 12, 5)),  # the latest 12-05 before today
    ("11月25日", True, dt.date(2025, 11, 25)),  # "before today": today itself is not past
    ("11月25日", False, dt.date(2026, 11, 25)),  # "not in the past": today is fine for an event
    ("今天", True, TODAY),
    ("昨天", True, dt.date(2026, 11, 24)),
    ("明天", False, dt.date(2026, 11, 26)),
    ("2月29日", False, dt.date(2028, 2, 29)),
    ("2月29日", True, dt.date(2024, 2, 29)),
]
TIMES = [  # (text, event, expected)
    ("9:00", True, dt.time(9, 0)),
    ("09:00", True, dt.time(9, 0)),
    ("9点", True, dt.time(9, 0)),
    ("上午9点", True, dt.time(9, 0)),
    ("下午2点半", True, dt.time(14, 30)),
    ("14点30", True, dt.time(14, 30)),
    ("14:30", True, dt.time(14, 30)),
    ("2点", True, dt.time(14, 0)),  # an event hour from 1 to 6 is afternoon
    ("2点", False, dt.time(2, 0)),
    ("6:30", True, dt.time(18, 30)),
    ("7点", True, dt.time(7, 0)),
    ("上午2点", True, dt.time(2, 0)),
    ("晚上7点半", True, dt.time(19, 30)),
    ("12点", True, dt.time(12, 0)),
]


@pytest.mark.parametrize(("text", "past", "expected"), DATES)
def test_contract_dates(text, past, expected):
    assert parse.parse_date(text, TODAY, past) == expected


@pytest.mark.parametrize(("text", "event", "expected"), TIMES)
def test_contract_times(text, event, expected):
    assert parse.parse_time(text, event) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2月30日", "13-01", "下周三", "", "11-23-1"])
def test_bad_dates_say_why(text):
    with pytest.raises(parse.ParseError, match="日期"):
        parse.parse_date(text, TODAY, True)


@pytest.mark.parametrize("text", ["25:00", "9:60", "下午14点", "九点", "14"])
def test_bad_times_say_why(text):
    with pytest.raises(parse.ParseError, match="时间"):
        parse.parse_time(text, True)


_DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


@given(day=_DAYS, today=_DAYS)
def test_written_dates_round_trip(day, today):
    for text in (day.isoformat(), day.strftime("%Y/%m/%d"), day.strftime("%Y.%m.%d"),
                 f"{day.year}年{day.month}月{day.day}日"):
        assert parse.parse_date(text, today, past=True) == day
        assert parse.parse_date(text, today, past=False) == day


@given(day=_DAYS, today=_DAYS)
def test_yearless_dates_pick_the_year(day, today):
    for text in (f"{day.month}月{day.day}日", f"{day.month:02d}-{day.day:02d}", f"{day.month}/{day.day}"):
        past = parse.parse_date(text, today, past=True)
        assert past < today
        assert (past.month, past.day) == (day.month, day.day)
        assert past.replace(year=past.year + 4 if (past.month, past.day) == (2, 29) else past.year + 1) >= today
        event = parse.parse_date(text, today, past=False)
        assert event >= today
        assert (event.month, event.day) == (day.month, day.day)
        assert event.replace(year=event.year - 4 if (event.month, event.day) == (2, 29) else event.year - 1) < today


@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_written_times_round_trip(hour, minute):
    assert parse.parse_time(f"{hour:02d}:{minute:02d}", event=False) == dt.time(hour, minute)
    assert parse.parse_time(f"{hour}点{minute}分", event=False) == dt.time(hour, minute)
    if hour >= 7:  # 7:00 to 23:59 are never moved to the afternoon
        assert parse.parse_time(f"{hour}:{minute:02d}", event=True) == dt.time(hour, minute)
    if 1 <= hour <= 11:
        assert parse.parse_time(f"下午{hour}点{minute}分", event=True) == dt.time(hour + 12, minute)
        assert parse.parse_time(f"上午{hour}点{minute}分", event=True) == dt.time(hour, minute)


@pytest.mark.parametrize(("text", "expected", "rest"), [
    ("12月5日下午2点半 三楼 学习", (dt.date(2026, 12, 5), dt.time(14, 30)), "三楼 学习"),
    ("12月5日 下午2点半 三楼 学习", (dt.date(2026, 12, 5), dt.time(14, 30)), "三楼 学习"),
    ("2026-12-05 14:30 三楼 学习", (dt.date(2026, 12, 5), dt.time(14, 30)), "三楼 学习"),
    ("12-06 15:00", (dt.date(2026, 12, 6), dt.time(15, 0)), ""),
    ("明天 2点,线上,学习", (dt.date(2026, 11, 26), dt.time(14, 0)), "线上,学习"),
])
def test_take_when(text, expected, rest):
    assert parse.take_when(text, TODAY) == (*expected, rest)


@pytest.mark.parametrize("text", ["三楼 12月5日 14:30", "12月5日 三楼", "12月5日 14:30x 三楼"])
def test_take_when_needs_a_date_then_a_time(text):
    assert parse.take_when(text, TODAY) is None


# -- through the pipeline ---------------------------------------------------------------------------------

def _number(reply: str) -> int:
    found = re.search(r"#(\d+)", reply)
    assert found is not None, reply
    return int(found.group(1))


def _makeup_date(rt, number: int) -> str:
    with rt.session() as s:
        request = s.exec(select(Approval).where(Approval.number == number)).one()
        return json.loads(request.payload)["date"]


def _makeup_reason(rt, number: int) -> str:
    with rt.session() as s:
        return json.loads(s.exec(select(Approval).where(Approval.number == number)).one().payload)["reason"]


def test_make_up_reason_is_stored_as_sent(app_rt):
    client, rt = app_rt
    add_items(rt, item("a1"))
    with rt.session() as s:
        from bot.services.study import core as study

        study.item_for(s, dt.date(2026, 11, 24))
    number = _number(say_wecom(client, "m1", "补签：１１月２４日，出差（第２天）"))
    assert _makeup_date(rt, number) == "2026-11-24"
    assert _makeup_reason(rt, number) == "出差（第２天）"


def test_make_up_with_written_dates(app_rt):
    client, rt = app_rt
    add_items(rt, item("a1"), item("a2"))
    with rt.session() as s:
        from bot.services.study import core as study

        study.item_for(s, dt.date(2026, 11, 23))
        study.item_for(s, dt.date(2026, 11, 24))
    assert _makeup_date(rt, _number(say_wecom(client, "m1", "补签 11月23日 出差在外"))) == "2026-11-23"
    assert _makeup_date(rt, _number(say_wecom(client, "m2", "补签，昨天，出差在外"))) == "2026-11-24"
    assert _makeup_reason(rt, 2) == "出差在外"
    refused = say_wecom(client, "m1", "补签 2月30日 出差")
    assert "没有「2月30日」这一天" in refused
    assert "格式：补签 日期 原因" in refused  # why, then what to send


@pytest.mark.parametrize(("command", "when"), [
    ("发布主题党日 12月5日 下午2点半 三楼会议室 学习党章", "2026-12-05 14:30"),
    ("发布主题党日 12月5日下午2点半 三楼会议室 学习党章", "2026-12-05 14:30"),
    ("发布主题党日 12-05 2点 三楼会议室 学习党章", "2026-12-05 14:00"),
    ("发布主题党日，2026年12月5日，9点，三楼会议室，学习党章", "2026-12-05 09:00"),
])
def test_publish_with_written_dates(app_rt, command, when):
    client, rt = app_rt
    reply = say_wecom(client, "sec", command)
    assert f"{when} 在 三楼会议室，主题「学习党章」" in reply
    with rt.session() as s:
        event = s.exec(select(ThemeDay).where(ThemeDay.number == _number(reply))).one()
        assert (event.place, event.topic) == ("三楼会议室", "学习党章")


def test_publish_stores_place_and_topic_as_sent(app_rt):
    client, rt = app_rt
    sent = "发布主题党日　１２月５日 下午２点半，三楼ＡＢ会议室，学习党章（第１章）　议程：学 会"
    reply = say_wecom(client, "sec", sent)
    assert "2026-12-05 14:30" in reply
    with rt.session() as s:
        event = s.exec(select(ThemeDay).where(ThemeDay.number == _number(reply))).one()
        assert event.place == "三楼ＡＢ会议室"
        assert event.topic == "学习党章（第１章）"
        assert event.agenda is not None


def test_publish_and_postpone_refusals_and_postpone(app_rt):
    client, _ = app_rt
    assert "已经过去" in say_wecom(client, "sec", "发布主题党日 今天 8点 会议室 学习")
    assert "没有「2月30日」这一天" in say_wecom(client, "sec", "发布主题党日 2月30日 14:30 会议室 学习")
    assert "请先写日期再写时间" in say_wecom(client, "sec", "发布主题党日 会议室 12月5日 14:30 学习")
    number = _number(say_wecom(client, "sec", "发布主题党日 12月5日 下午2点半 会议室 学习"))
    assert "推迟到 2026-12-06 15:00" in say_wecom(client, "sec", f"推迟 #{number} 12-06 15:00")
    assert "推迟到 2026-12-07 14:30" in say_wecom(client, "sec", f"推迟 {number} 12月7日下午2点半")
    assert "格式" in say_wecom(client, "sec", f"推迟 {number} 12月8日 14:30 会议室")


def _ledger(rt, userid: str) -> list[int]:
    with rt.session() as s:
        member = s.exec(select(Member).where(Member.userid == userid)).one()
        return [e.points for e in s.exec(select(LedgerEntry).where(LedgerEntry.member_id == member.id,
                                                                   LedgerEntry.rule == "manual"))]


def _more_people(rt) -> None:
    """A second 党员乙 in b1 (m3) and one in b2 (x1), and 外支部党员 in b2."""
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
        top = s.exec(select(Branch).where(Branch.code == "dw")).one()
        b2 = Branch(code="b2", name="第二党支部", parent_id=top.id)
        s.add(b2)
        s.flush()
        s.add_all([Member(userid="m3", name="党员乙", branch_id=b1.id),
                   Member(userid="x1", name="党员乙", branch_id=b2.id),
                   Member(userid="x2", name="外支部党员", branch_id=b2.id)])


def test_points_by_name(app_rt):
    client, rt = app_rt
    reply = say_wecom(client, "sec", "加分 党员丙 2 协助组织主题党日")
    assert reply.startswith("已记入：党员丙 +2 分")
    assert _ledger(rt, "m2") == [2]
    assert "名册中没有「无此人」" in say_wecom(client, "sec", "加分 无此人 2 帮忙")
    assert say_wecom(client, "sec", "加分 离册丁 2 帮忙").startswith("本支部名册中没有「离册丁」")
    assert say_wecom(client, "sec", "加分 书记甲 2 自己") == "不能给自己加分或扣分，请由其他支委办理。"
    _more_people(rt)
    shared = say_wecom(client, "sec", "扣分 党员乙 1 迟到")
    assert "「党员乙」的党员有 2 位" in shared  # b1's two; b2's namesake is outside the secretary's branch
    assert "党员乙（第一党支部）工号 m1" in shared
    assert "工号 m3" in shared
    assert "x1" not in shared
    assert "扣分 m1 1 迟到" in shared
    assert _ledger(rt, "m1") == []
    assert _ledger(rt, "m3") == []
    assert say_wecom(client, "sec", "扣分 外支部党员 1 迟到").startswith("本支部名册中没有")
    assert say_wecom(client, "sec", "扣分 x2 1 迟到") == "外支部党员 不在您的支部，无权调整。"  # by userid
    everywhere = say_wecom(client, "cw", "扣分 党员乙 1 迟到")  # the committee looks in every branch
    assert "有 3 位" in everywhere
    assert "党员乙（第二党支部）工号 x1" in everywhere
    assert say_wecom(client, "cw", "@b2 扣分 党员乙 1 迟到").startswith("已记入：党员乙 -1 分")
    assert _ledger(rt, "x1") == [-1]


def test_veto_by_name(app_rt):
    client, rt = app_rt
    assert say_wecom(client, "cw", "否决 党员丙 违反廉洁纪律").startswith("已对 党员丙 的 2026 年度一票否决")
    _more_people(rt)
    shared = say_wecom(client, "cw", "否决 党员乙 违纪")
    assert "有 3 位" in shared
    assert "否决 m1 违纪" in shared
    assert "「党员乙」的党员有 2 位" in say_wecom(client, "cw", "@b1 否决 党员乙 违纪")  # @code: that branch
    assert say_wecom(client, "cw", "@b2 否决 党员乙 违纪").startswith("已对 党员乙 的 2026 年度一票否决")
    with rt.session() as s:
        assert len(s.exec(select(Veto)).all()) == 2


def test_assign_by_name(app_rt):
    client, rt = app_rt
    _number(say_wecom(client, "m1", "反映 食堂饭菜太咸了，希望改进"))
    _more_people(rt)
    shared = say_wecom(client, "sec", "指派 1 党员乙")
    assert "有 2 位" in shared
    assert "指派 1 m1" in shared
    assert "x1" not in shared
    from bot.services.member_lookup import SeveralMembers
    from bot.services.tickets import handling as tickets

    with rt.session() as s:  # the service takes the name only: no chat text in, the list out (the console's case)
        sec = s.exec(select(Member).where(Member.userid == "sec")).one()
        with pytest.raises(SeveralMembers) as caught:
            tickets.assignee_for(s, sec, 1, "党员乙")
    assert [m.userid for m in caught.value.found] == ["m1", "m3"]
    assert "工号 m3" in str(caught.value)
    assert "例如" not in str(caught.value)
    assert say_wecom(client, "sec", "指派 1 外支部党员").startswith("名册中没有「外支部党员」")
    assert "不在 #1 所属支部" in say_wecom(client, "sec", "指派 1 x2")  # a userid keeps the refusal
    assert say_wecom(client, "sec", "指派 1 党员丙") == "#1 已指派给 党员丙，已通知本人。"
    with rt.session() as s:
        ticket = s.exec(select(Ticket)).one()
        assert ticket.assignee_id == s.exec(select(Member).where(Member.userid == "m2")).one().id
