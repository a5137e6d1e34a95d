"""#12.9 through signed callbacks and jobs: frail and retired members are exempt from the absence penalty and
skipped by the study reminder by default; review rounds and points bands are words; 党龄 explained once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import col, select

from bot.models import Delivery, LedgerEntry, Member, OutboundMessage
from bot.services.study import push as study_push
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.callbacks import say_wecom
from tests.study_helpers import add_items, item

WED = dt.date(2026, 11, 25)


def _ledger(rt, userid: str) -> list[tuple[str, int, str]]:
    with rt.session() as s:
        stmt = (select(LedgerEntry).join(Member, col(Member.id) == LedgerEntry.member_id)
                .where(Member.userid == userid).order_by(col(LedgerEntry.id)))
        return [(e.rule, e.points, e.reason) for e in s.exec(stmt)]


def test_an_absent_retired_member_is_not_penalised_by_default(app_rt):
    client, rt = app_rt
    reply = say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习")
    number = int(re.search(r"#(\d+)", reply).group(1))
    move(at(2026, 12, 5, 18, 31))
    assert run_job(rt, "theme_day_close", dt.date(2026, 12, 5)) == "done"
    [(rule, points, reason)] = _ledger(rt, "m2")  # m2 is retired
    assert (rule, points) == ("theme_day_absent", 0)
    assert reason.startswith("退休党员免于此项")
    assert [(r, p) for r, p, _ in _ledger(rt, "m1")] == [("theme_day_absent", -5)]  # a regular member
    assert f"#{number}" in _ledger(rt, "m1")[0][2]


def test_the_study_reminder_skips_retired_members_by_default(app_rt):
    _, rt = app_rt
    add_items(rt, item("a1"))
    with rt.session() as s:
        study_push.morning(s, rt.config, WED)
    move(at(2026, 11, 25, 12, 0))
    assert run_job(rt, "study_reminder", WED) == "done"
    with rt.session() as s:
        reminded = sorted(s.exec(select(Delivery.recipient).join(OutboundMessage)
                                 .where(col(OutboundMessage.key).startswith("study_reminder"))))
    assert reminded == ["cw", "m1", "sec"]  # not m2 (retired); `gone` is inactive


@pytest.mark.parametrize(("before", "userid", "text", "expected", "never"), [
    ([], "m1", "自评 今年坚持晨学，参加了全部主题党日。", "（2026 年下半年）", "2026-H2"),
    ([("sec", "开启排行")], "m1", "积分", "支部排名第 1 名，位列第一档", "档次"),
])
def test_a_member_reads_words_not_codes(app_rt, before, userid, text, expected, never):
    client, _ = app_rt
    for who, said in before:
        say_wecom(client, who, said)
    reply = say_wecom(client, userid, text)
    assert expected in reply
    assert never not in reply


def test_party_age_is_explained_once_in_the_greeting(app_rt):
    _, rt = app_rt
    assert run_job(rt, "political_birthday", WED) == "done"
    [greeting] = queued(rt, "m1")
    assert "党龄 15 年（党龄自转正之日起计算）" in greeting
    assert greeting.count("转正之日起计算") == 1
