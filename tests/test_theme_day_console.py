"""Theme days beyond the chat basics: the per-branch rule override (limit-day flag, fixed-day note, month
list line), agenda (学/会/做/工/课) and guests in notices and 出勤, and the console's theme-day page (create,
postpone, cancel; login and CSRF required, audited) and branch override fields; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from bot.models import AuditLog, Branch, Delivery, ThemeDay
from bot.services import birthday
from bot.services.theme_day import agenda as theme_day_agenda
from scheduler.runner import run_job
from tests.attendance_helpers import at, move, queued
from tests.callbacks import WECOM, say_wecom
from tests.conftest import make_runtime
from tests.helpers import add_roster
from tests.test_admin import add_admin, audits, csrf, login, make_app

EVENT_FORM = {"date": "2026-12-05", "time": "14:30", "place": "三楼会议室", "topic": "学习党章 <b>重温</b>",
              "agenda": ["学", "课"], "agenda_note_0": "党章第一章", "agenda_note_4": "书记讲党课",
              "agenda_note_1": "不选不存", "guests": "街道党工委 王书记", "online": "on"}


@pytest.fixture
def site(backend):
    runtime = make_runtime(backend, wecom=WECOM)
    add_roster(runtime)
    add_admin(runtime)
    app = make_app(runtime)
    yield app.test_client(), app.test_client(), runtime
    runtime.close()


def _b1(rt) -> Branch:
    with rt.session() as s:
        return s.exec(select(Branch).where(Branch.code == "b1")).one()


def _events(rt) -> list[ThemeDay]:
    with rt.session() as s:
        return list(s.exec(select(ThemeDay).order_by(ThemeDay.id)))


def _deliveries(rt) -> int:
    with rt.session() as s:
        return len(list(s.exec(select(Delivery.id))))


def test_branch_rule_defaults_and_override(site):
    _, _, rt = site
    b1 = _b1(rt)
    assert theme_day_agenda.branch_rule(rt.config, b1) == ("fixed", 5, 15)
    assert theme_day_agenda.branch_rule(rt.config, None) == ("fixed", 5, 15)
    b1.theme_day_rule, b1.theme_day_limit_day = "free", 20
    assert theme_day_agenda.branch_rule(rt.config, b1) == ("free", 5, 20)
    b1.theme_day_rule, b1.theme_day_day = "fixed", 8
    assert theme_day_agenda.branch_rule(rt.config, b1) == ("fixed", 8, 20)
    assert theme_day_agenda.fixed_date(8, dt.date(2026, 11, 25)) == dt.date(2026, 12, 8)
    assert theme_day_agenda.fixed_date(28, dt.date(2026, 11, 25)) == dt.date(2026, 11, 28)


def test_console_override_drives_limit_day_and_fixed_note(site):
    chat, client, rt = site
    b1 = _b1(rt)
    form = {"push_enabled": "on", "ranking_enabled": "", "theme_day_rule": "fixed", "theme_day_day": "8",
            "theme_day_limit_day": "20"}
    assert client.post(f"/admin/branches/{b1.id}", data=form).status_code == 401  # not logged in
    assert login(client).status_code == 302
    assert client.post(f"/admin/branches/{b1.id}", data=form).status_code == 400  # no CSRF token
    token = csrf(client, "/admin/branches")
    bad = {**form, "csrf_token": token, "theme_day_limit_day": "29"}
    assert client.post(f"/admin/branches/{b1.id}", data=bad).status_code == 400
    assert client.post(f"/admin/branches/{b1.id}", data={**bad, "theme_day_rule": "weekly"}).status_code == 400
    assert (_b1(rt).theme_day_rule, _b1(rt).theme_day_limit_day) == (None, None)
    assert audits(rt, "branch.settings") == []
    assert client.post(f"/admin/branches/{b1.id}", data={**form, "csrf_token": token}).status_code == 302
    saved = _b1(rt)
    assert (saved.theme_day_rule, saved.theme_day_day, saved.theme_day_limit_day) == ("fixed", 8, 20)
    [row] = audits(rt, "branch.settings")
    assert row.actor == "boss"
    assert "theme_day_limit_day: None -> 20" in row.detail
    page = client.get("/admin/branches").get_data(as_text=True)
    assert 'name="theme_day_limit_day" min="1" max="28" size="3" value="20"' in page

    reply = say_wecom(chat, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习党章")
    assert "已发布主题党日" in reply
    assert "固定在每月 8 日，建议日期 2026-12-08" in reply  # a note, not a refusal
    assert "建议日期" not in say_wecom(chat, "sec", "发布主题党日 2026-12-08 14:30 会议室 学习党章")
    with rt.write() as s:  # the month's birthday list names the branch's fixed day
        birthday.month_list(s, rt.config, dt.date(2026, 11, 1))
    assert "固定在每月 8 日（本月 11月8日）" in queued(rt, "sec")[-1]

    with rt.write() as s:
        for event in s.exec(select(ThemeDay)):
            event.status = "cancelled"  # nothing held in December
            s.add(event)
    move(at(2026, 12, 15, 9, 0))
    run_job(rt, "theme_day_deadline", dt.date(2026, 12, 15))
    assert queued(rt, "cw") == []  # [theme_day] limit_day 15 is not this branch's
    move(at(2026, 12, 20, 9, 0))
    run_job(rt, "theme_day_deadline", dt.date(2026, 12, 20))
    [flag] = queued(rt, "cw")
    assert "第一党支部" in flag

    clear = {**form, "csrf_token": token, "theme_day_rule": "", "theme_day_day": "", "theme_day_limit_day": ""}
    assert client.post(f"/admin/branches/{b1.id}", data=clear).status_code == 302
    assert theme_day_agenda.branch_rule(rt.config, _b1(rt)) == ("fixed", 5, 15)


def test_agenda_and_guests_by_chat_in_notices_and_attendance(site):
    chat, _, rt = site
    reply = say_wecom(chat, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习党章 议程：学（党章） 会 课 嘉宾：张书记")
    assert "「学习党章」" in reply
    [event] = _events(rt)
    assert (event.topic, event.agenda, event.guests) == ("学习党章", "学:党章;会;课", "张书记")
    [notice] = queued(rt, "m1")
    assert "主题：学习党章\n议程：学（党章）、会、课\n嘉宾：张书记" in notice
    move(at(2026, 12, 4, 15, 0))
    run_job(rt, "theme_day_reminders", dt.date(2026, 12, 4))
    assert "地点：会议室\n议程：学（党章）、会、课\n嘉宾：张书记\n" in queued(rt, "m1")[-1]
    move(at(2026, 12, 5, 14, 45))
    attendance = say_wecom(chat, "sec", "出勤")
    assert "议程：学（党章）、会、课" in attendance
    assert "嘉宾：张书记" in attendance
    assert theme_day_agenda.parse_agenda("课 学 学 其他") == "学;课"
    assert theme_day_agenda.split_topic("只有主题") == ("只有主题", None, None)


def test_console_theme_days_need_login(site):
    _, client, rt = site
    resp = client.get("/admin/theme-days")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/admin/login?next=")
    assert client.post("/admin/theme-days", data=EVENT_FORM).status_code == 401
    assert client.post("/admin/theme-days/1/cancel", data={}).status_code == 401
    assert _events(rt) == []


def test_console_create_postpone_cancel_with_csrf_and_audit(site):
    _, client, rt = site
    b1 = _b1(rt)
    assert login(client).status_code == 302
    form = {**EVENT_FORM, "branch_id": str(b1.id)}
    assert client.post("/admin/theme-days", data=form).status_code == 400
    assert client.post("/admin/theme-days", data={**form, "csrf_token": "forged"}).status_code == 400
    assert _events(rt) == []
    assert _deliveries(rt) == 0
    token = csrf(client, "/admin/theme-days")
    resp = client.post("/admin/theme-days", data={**form, "csrf_token": token}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "已通知 3 名党员" in page
    [event] = _events(rt)
    assert (event.agenda, event.guests, event.online, event.created_by) == (
        "学:党章第一章;课:书记讲党课", "街道党工委 王书记", True, "boss")
    assert f"#{event.number}" in page
    assert "学习党章 &lt;b&gt;重温&lt;/b&gt;" in page
    assert "<b>重温</b>" not in page
    assert "议程：学（党章第一章）、课（书记讲党课）" in page
    [notice] = queued(rt, "m1")  # the same notice as a chat publish
    assert "【主题党日通知】" in notice
    assert "（可线上参加）" in notice
    assert "议程：学（党章第一章）、课（书记讲党课）\n嘉宾：街道党工委 王书记" in notice
    [published] = audits(rt, "theme_day_publish")
    assert (published.actor, published.target) == ("boss", f"#{event.number}")

    past = {**form, "csrf_token": token, "date": "2026-11-01"}
    assert "已经过去" in client.post("/admin/theme-days", data=past, follow_redirects=True).get_data(as_text=True)
    assert len(_events(rt)) == 1

    later = {"date": "2026-12-08", "time": "09:00"}
    assert client.post(f"/admin/theme-days/{event.id}/postpone", data=later).status_code == 400
    assert _events(rt)[0].status == "scheduled"
    resp = client.post(f"/admin/theme-days/{event.id}/postpone", data={**later, "csrf_token": token})
    assert resp.status_code == 302
    moved = _events(rt)[0]
    assert moved.status == "postponed"
    assert moved.starts_at == at(2026, 12, 8, 9, 0)
    assert "改到 2026-12-08 09:00" in queued(rt, "m1")[-1]
    [postponed] = audits(rt, "theme_day_postpone")
    assert postponed.actor == "boss"

    assert client.post(f"/admin/theme-days/{event.id}/cancel", data={}).status_code == 400
    assert _events(rt)[0].status == "postponed"
    assert client.post(f"/admin/theme-days/{event.id}/cancel", data={"csrf_token": token}).status_code == 302
    assert _events(rt)[0].status == "cancelled"
    assert "【主题党日取消】" in queued(rt, "m1")[-1]
    again = client.post(f"/admin/theme-days/{event.id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "已取消，不能再调整" in again.get_data(as_text=True)
    assert len(audits(rt, "theme_day_cancel")) == 1
    assert client.post("/admin/theme-days/99999/cancel", data={"csrf_token": token}).status_code == 404
    listing = client.get("/admin/theme-days").get_data(as_text=True)
    assert re.search(rf"#{event.number}(</a>)?</td>\s*<td[^>]*>第一党支部</td>", listing)
    assert "已取消" in listing
    with rt.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "theme_day_publish")).all()
