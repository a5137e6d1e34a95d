"""The attendance sheet (补签到, 准假 through theme_day_fix), the room's sign-in screen (code and a QR code
that changes every 30 s) and `/checkin/<N>` signing a member in through WeCom OAuth2 (the fake API)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
import requests
from sqlmodel import select

from bot import clock
from bot.models import Attendance, Member, ThemeDay
from bot.web import build_app
from handlers import build_router
from tests.helpers import add_roster
from tests.test_authz_matrix import say
from tests.test_console_scope import member_login, token

pytest_plugins = ("tests.fakewecom",)
DURING = dt.datetime(2026, 12, 5, 14, 5, tzinfo=clock.tz())


@pytest.fixture
def held(make_rt):
    rt = make_rt()
    add_roster(rt)
    say(rt, build_router(), "sec", "发布主题党日 2026-12-05 14:00 会议室 学习党章")
    clock.freeze(DURING)
    with rt.session() as s:
        event = s.exec(select(ThemeDay)).one()
    return build_app(runtime=rt), rt, event


def attendance(rt, event, userid):
    with rt.session() as s:
        member = s.exec(select(Member).where(Member.userid == userid)).one()
        return s.exec(select(Attendance).where(Attendance.event_id == event.id,
                                               Attendance.member_id == member.id)).first()


def test_sheet_signs_in_by_hand_and_excuses(held):
    app, rt, event = held
    client = member_login(app.test_client(), rt, "sec")
    sheet = client.get(f"/admin/theme-days/{event.id}")
    assert sheet.status_code == 200
    assert "党员乙" in sheet.get_data(as_text=True)
    csrf = token(client)
    url = f"/admin/theme-days/{event.id}/fix"
    assert client.post(url, data={"csrf_token": csrf, "userid": "m1", "action": "signin"}).status_code == 302
    assert attendance(rt, event, "m1").signed_at is not None
    no_reason = client.post(url, data={"csrf_token": csrf, "userid": "m2", "action": "excuse"})
    assert no_reason.status_code == 400
    assert "准假须写明原因" in no_reason.get_data(as_text=True)
    ok = client.post(url, data={"csrf_token": csrf, "userid": "m2", "action": "excuse", "reason": "住院"})
    assert ok.status_code == 302
    assert attendance(rt, event, "m2").rsvp == "leave"
    own = client.post(url, data={"csrf_token": csrf, "userid": "sec", "action": "signin"})
    assert own.status_code == 400  # nobody corrects their own attendance
    assert attendance(rt, event, "sec") is None or attendance(rt, event, "sec").signed_at is None


def test_screen_and_checkin_through_wecom_oauth(held, fake_wecom):
    app, rt, event = held
    client = member_login(app.test_client(), rt, "sec")
    screen = client.get(f"/admin/theme-days/{event.id}/screen").get_data(as_text=True)
    with rt.session() as s:
        code = s.get(ThemeDay, event.id).signin_code
    assert code
    assert len(code) == 4
    assert f">{code}<" in screen
    assert "<svg" in screen
    assert 'http-equiv="refresh" content="30"' in screen
    link = screen.split(f"http://127.0.0.1:8000/checkin/{event.number}?c={code}&amp;t=")[1].split('"')[0]
    phone = app.test_client()  # the member's WeCom browser
    fake_wecom.login_as(userid="m1")
    start = phone.get(f"/checkin/{event.number}?c={code}&t={link}")
    assert start.status_code == 302
    assert urlsplit(start.headers["Location"]).path == "/connect/oauth2/authorize"
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
    done = phone.get(f"{back.path}?{back.query}")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert attendance(rt, event, "m1").signed_at is not None
    assert phone.get(f"{back.path}?{back.query}").status_code == 400  # the state is spent
    stale = phone.get(f"/checkin/{event.number}?c={code}&t=1.abc")
    assert stale.status_code == 400
    assert "已过期" in stale.get_data(as_text=True)


def test_a_checkin_state_older_than_ten_minutes_is_refused(held, fake_wecom):
    """The scan's OAuth state, like the console login's, is good for 10 minutes only (a fresh QR slot aside)."""
    from urllib.parse import parse_qs, urlencode

    app, rt, event = held
    client = member_login(app.test_client(), rt, "sec")

    def screen_link() -> tuple[str, str]:
        page = client.get(f"/admin/theme-days/{event.id}/screen").get_data(as_text=True)
        with rt.session() as s:
            code = s.get(ThemeDay, event.id).signin_code
        return code, page.split(f"/checkin/{event.number}?c={code}&amp;t=")[1].split('"')[0]

    code, slot = screen_link()
    phone = app.test_client()
    fake_wecom.login_as(userid="m1")
    start = phone.get(f"/checkin/{event.number}?c={code}&t={slot}")
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
    answer = parse_qs(back.query)
    clock.skip(601)  # past the state's 10 minutes; a new QR slot from the screen keeps `t` itself fresh
    code, slot = screen_link()
    query = urlencode({"c": code, "t": slot, "code": answer["code"][0], "state": answer["state"][0]})
    late = phone.get(f"{back.path}?{query}")
    assert late.status_code == 400
    assert "已使用或已失效" in late.get_data(as_text=True)
    assert attendance(rt, event, "m1") is None or attendance(rt, event, "m1").signed_at is None


def test_other_branch_cannot_open_the_sheet(held):
    app, rt, event = held
    with rt.session() as s:
        from bot.models import Branch

        b2 = Branch(code="b2", name="第二党支部")
        s.add(b2)
        s.flush()
        s.add(Member(userid="sec2", name="书记庚", branch_id=b2.id, roles="member;secretary"))
    client = member_login(app.test_client(), rt, "sec2")
    assert client.get(f"/admin/theme-days/{event.id}").status_code == 404
    assert client.get(f"/admin/theme-days/{event.id}/screen").status_code == 404
    resp = client.post(f"/admin/theme-days/{event.id}/fix", data={"csrf_token": token(client), "userid": "m1",
                                                                   "action": "signin"})
    assert resp.status_code == 404
    assert attendance(rt, event, "m1") is None or attendance(rt, event, "m1").signed_at is None


def test_agenda_and_guests_edited_and_the_branch_told(held):
    from tests.helpers import texts_to

    app, rt, event = held
    client = member_login(app.test_client(), rt, "sec")
    form = {"csrf_token": token(client), "agenda": ["学", "课"], "agenda_note_0": "党章第一章", "guests": "街道 王书记"}
    assert client.post(f"/admin/theme-days/{event.id}/agenda", data=form).status_code == 302
    with rt.session() as s:
        saved = s.get(ThemeDay, event.id)
        assert (saved.agenda, saved.guests) == ("学:党章第一章;课", "街道 王书记")
    told = texts_to(rt, "m1")[-1]
    assert "议程：学（党章第一章）、课" in told
    assert "嘉宾：街道 王书记" in told
    before = len(texts_to(rt, "m1"))
    assert client.post(f"/admin/theme-days/{event.id}/agenda", data=form).status_code == 302
    assert len(texts_to(rt, "m1")) == before  # nothing changed: nobody told again
