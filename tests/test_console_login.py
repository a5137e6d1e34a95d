"""Console sign-in through WeCom (OAuth2 inside the client, QR login elsewhere) against the fake WeCom API,
the demo's one-time links, and sessions that end for good (logout, deactivation, loss of role)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import update
from sqlmodel import select

from bot import clock
from bot.models import AuditLog, Member
from bot.services.roster.core import import_roster
from bot.web import build_app
from tests.helpers import add_roster

pytest_plugins = ("tests.fakewecom",)
WXWORK_UA = "Mozilla/5.0 (iPhone) AppleWebKit wxwork/4.1.22 MicroMessenger/7.0.1"


@pytest.fixture
def app_rt(make_rt):
    rt = make_rt()
    add_roster(rt)
    with rt.session() as s:
        b1 = s.exec(select(Member).where(Member.userid == "sec")).one().branch_id
        s.add(Member(userid="ed", name="编辑己", branch_id=b1, roles="member;editor"))
    return build_app(runtime=rt), rt


def wecom_login(client, fake, user_agent="Mozilla/5.0 (X11; Linux x86_64)", next_path=""):
    """Follow the flow: our redirect to the fake login page, its redirect back, our callback."""
    start = client.get("/admin/login/wecom" + (f"?next={next_path}" if next_path else ""),
                       headers={"User-Agent": user_agent})
    assert start.status_code == 302, start.get_data(as_text=True)
    page = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert page.status_code == 302
    back = urlsplit(page.headers["Location"])
    assert back.path == "/admin/login/wecom/callback"
    return client.get(f"{back.path}?{back.query}"), start.headers["Location"]


def test_qr_login_signs_in_a_secretary_and_roles_are_reread(app_rt, fake_wecom):
    app, rt = app_rt
    client = app.test_client()
    fake_wecom.login_as(userid="SEC")  # WeCom userids are case-insensitive
    done, went_to = wecom_login(client, fake_wecom, next_path="/admin/theme-days")
    assert done.status_code == 302
    assert done.headers["Location"] == "/admin/theme-days"
    target = urlsplit(went_to)
    query = parse_qs(target.query)
    assert target.path == "/wwlogin/sso/login"
    assert query["login_type"] == ["CorpApp"]
    assert query["appid"] == ["wwfake"]
    assert query["agentid"] == ["1000002"]
    assert len(query["state"][0]) == 32
    assert int(query["state"][0], 16) >= 0
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/admin/login/wecom/callback"]
    page = client.get("/admin/theme-days")
    assert page.status_code == 200
    assert "书记甲" in page.get_data(as_text=True)
    assert [c["path"] for c in fake_wecom.calls].count("/cgi-bin/auth/getuserinfo") == 1
    with rt.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "console.login", AuditLog.actor == "sec")).first()
    # global pages stay closed to a secretary
    assert client.get("/admin/audit").status_code == 403
    # roles re-read on every request: the role taken away ends the session for good
    with rt.session() as s:
        assert import_roster(s, [(2, {"userid": "sec", "name": "书记甲", "branch": "b1", "roles": "member"})],
                             "test").ok
    assert client.get("/admin/theme-days").status_code == 302
    with rt.session() as s:
        s.execute(update(Member).where(Member.userid == "sec").values(roles="member;secretary"))
    assert client.get("/admin/theme-days").status_code == 302  # the role back does not revive the old cookie


def test_oauth_inside_wecom_and_the_state_is_single_use(app_rt, fake_wecom):
    app, _ = app_rt
    client = app.test_client()
    fake_wecom.login_as(userid="cw")
    start = client.get("/admin/login/wecom", headers={"User-Agent": WXWORK_UA})
    target = urlsplit(start.headers["Location"])
    assert target.path == "/connect/oauth2/authorize"
    assert target.fragment == "wechat_redirect"
    assert parse_qs(target.query)["scope"] == ["snsapi_base"]
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
    replay = f"{back.path}?{back.query}"
    assert client.get(replay).status_code == 302
    assert client.get("/admin/audit").status_code == 200  # committee: every page
    other = app.test_client()  # the same code and state in another browser: refused
    refused = other.get(replay)
    assert refused.status_code == 403
    assert "已失效" in refused.get_data(as_text=True)
    assert other.get("/admin/").status_code == 302


def test_stale_or_forged_state_is_refused(app_rt, fake_wecom, monkeypatch):
    app, _ = app_rt
    client = app.test_client()
    fake_wecom.login_as(userid="sec")
    start = client.get("/admin/login/wecom")
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
    forged = parse_qs(back.query)
    assert client.get(f"{back.path}?code={forged['code'][0]}&state={'0' * 32}").status_code == 403
    start = client.get("/admin/login/wecom")  # a new state, used after 10 minutes
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
    later = clock.wall() + 601
    monkeypatch.setattr(clock, "wall", lambda: later)
    assert client.get(f"{back.path}?{back.query}").status_code == 403
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(("who", "kind"), [("m1", "userid"), ("nobody", "userid"), ("oXYZ", "openid"),
                                           ("gone", "userid")])
def test_member_without_role_stranger_openid_inactive_get_403(app_rt, fake_wecom, who, kind):
    app, rt = app_rt
    client = app.test_client()
    fake_wecom.login_as(**{kind: who})
    done, _ = wecom_login(client, fake_wecom)
    assert done.status_code == 403
    assert "没有管理后台的角色" in done.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    with rt.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "console.login_refused")).first()


def test_logout_and_deactivation_end_member_sessions(app_rt, fake_wecom):
    app, rt = app_rt
    client = app.test_client()
    fake_wecom.login_as(userid="sec")
    wecom_login(client, fake_wecom)
    cookie = client.get_cookie("session").value
    page = client.get("/admin/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/admin/").status_code == 302  # a copied cookie no longer works
    wecom_login(client, fake_wecom)
    assert client.get("/admin/").status_code == 200
    with rt.session() as s:
        assert import_roster(s, [(2, {"userid": "sec", "name": "书记甲", "branch": "b1",
                                      "roles": "member;secretary", "active": "否"})], "test").ok
    assert client.get("/admin/").status_code == 302


def test_editor_sees_study_area_only(app_rt, fake_wecom):
    app, _ = app_rt
    client = app.test_client()
    fake_wecom.login_as(userid="ed")
    done, _ = wecom_login(client, fake_wecom)
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200
    for path in ("/admin/members", "/admin/theme-days", "/admin/audit", "/admin/deliveries"):
        assert client.get(path).status_code == 403, path


def test_demo_links_are_local_and_single_use(app_rt):
    app, _ = app_rt
    from bot.admin.wecom_login import demo_links

    tokens, lines = demo_links("http://127.0.0.1:8000", {"书记": "sec"})
    assert lines[0].startswith("  书记: http://127.0.0.1:8000/admin/login/demo?token=")
    token = next(iter(tokens))
    client = app.test_client()
    assert client.get(f"/admin/login/demo?token={token}").status_code == 403  # not a demo app
    app.extensions["dangjian.demo_logins"] = tokens
    remote = app.test_client()
    refused = remote.get(f"/admin/login/demo?token={token}", environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert refused.status_code == 403
    assert client.get(f"/admin/login/demo?token={token}").status_code == 302
    assert client.get("/admin/theme-days").status_code == 200
    again = app.test_client()
    assert again.get(f"/admin/login/demo?token={token}").status_code == 403  # used once
