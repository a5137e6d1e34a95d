"""Console scope and the approvals page, with Flask's test client on SQLite: a secretary of branch A cannot
see or change branch B; nobody decides their own request; a rejection needs a reason (shown beside the
field); the list exports as XLSX with Chinese headers; every form needs its CSRF token."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot import clock
from bot.models import Approval, Attendance, AuditLog, Branch, Member, ThemeDay
from bot.web import build_app
from handlers import build_router
from tests.conftest import make_runtime
from tests.helpers import add_roster
from tests.test_authz_matrix import number_in, say

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def member_login(client, rt, userid):
    """What the WeCom callback leaves in the session (the flow itself: tests/test_console_login.py)."""
    with rt.session() as s:
        member = s.exec(select(Member).where(Member.userid == userid)).one()
    with client.session_transaction() as sess:
        sess.update(member_id=member.id, member_sv=member.session_version, login_at=int(clock.wall()))
    return client


def token(client, path="/admin/"):
    return TOKEN_RE.search(client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def world(sqlite_url):
    """b1 (sec, m1, m2, cw of the committee) and b2 (sec2, n1); a theme day of b1 with m1's pending leave."""
    rt = make_runtime(sqlite_url)
    add_roster(rt)
    with rt.session() as s:
        top = s.exec(select(Branch).where(Branch.code == "dw")).one()
        b2 = Branch(code="b2", name="第二党支部", parent_id=top.id)
        s.add(b2)
        s.flush()
        s.add_all([Member(userid="sec2", name="书记庚", branch_id=b2.id, roles="member;secretary"),
                   Member(userid="n1", name="党员辛", branch_id=b2.id)])
    router = build_router()
    say(rt, router, "sec", "发布主题党日 2026-12-05 14:00 会议室 学习党章")
    leave = number_in(say(rt, router, "m1", "请假 出差在外"))
    own = number_in(say(rt, router, "sec", "请假 外出开会"))
    yield build_app(runtime=rt), rt, {"leave": leave, "own": own}
    rt.close()


def test_secretary_of_b2_sees_and_changes_nothing_of_b1(world):
    app, rt, numbers = world
    client = member_login(app.test_client(), rt, "sec2")
    members = client.get("/admin/members?branch=1").get_data(as_text=True)
    assert "党员辛" in members
    assert "党员乙" not in members  # b1's member, even with b1 asked for in the URL
    days = client.get("/admin/theme-days").get_data(as_text=True)
    assert "学习党章" not in days
    with rt.session() as s:
        event = s.exec(select(ThemeDay)).one()
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one().id
    csrf = token(client)
    assert client.post(f"/admin/theme-days/{event.id}/cancel", data={"csrf_token": csrf}).status_code == 404
    form = {"csrf_token": csrf, "branch_id": b1, "date": "2026-12-12", "time": "14:00", "place": "会议室",
            "topic": "越权"}
    assert client.post("/admin/theme-days", data=form).status_code == 404
    assert f"#{numbers['leave']}" not in client.get("/admin/approvals").get_data(as_text=True)
    refused = client.post(f"/admin/approvals/{numbers['leave']}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 400
    for path in ("/admin/branches", "/admin/audit", "/admin/deliveries"):
        assert client.get(path).status_code == 403
    assert client.post(f"/admin/branches/{b1}", data={"csrf_token": csrf, "ranking_enabled": "on"}).status_code == 403
    with rt.session() as s:
        assert s.exec(select(ThemeDay)).one().status == "scheduled"
        assert s.exec(select(Approval).where(Approval.number == numbers["leave"])).one().status == "pending"
        assert s.exec(select(ThemeDay).where(ThemeDay.topic == "越权")).first() is None


def test_secretary_approves_a_leave_and_not_their_own(world):
    app, rt, numbers = world
    client = member_login(app.test_client(), rt, "sec")
    page = client.get("/admin/approvals").get_data(as_text=True)
    assert f"#{numbers['leave']}" in page
    assert f"#{numbers['own']}" not in page  # their own request is not theirs to decide
    assert client.post(f"/admin/approvals/{numbers['leave']}/approve").status_code == 400  # no CSRF token
    csrf = token(client)
    own = client.post(f"/admin/approvals/{numbers['own']}/approve", data={"csrf_token": csrf})
    assert own.status_code == 400
    done = client.post(f"/admin/approvals/{numbers['leave']}/approve", data={"csrf_token": csrf})
    assert done.status_code == 302
    assert "已通过" in client.get("/admin/approvals").get_data(as_text=True)
    with rt.session() as s:
        assert s.exec(select(Approval).where(Approval.number == numbers["leave"])).one().status == "approved"
        assert s.exec(select(Approval).where(Approval.number == numbers["own"])).one().status == "pending"
        m1 = s.exec(select(Member).where(Member.userid == "m1")).one()
        assert s.exec(select(Attendance).where(Attendance.member_id == m1.id)).one().rsvp == "leave"
        assert s.exec(select(AuditLog).where(AuditLog.actor == "sec", AuditLog.action == "approved_leave")).first()


def test_reject_needs_a_reason_shown_beside_the_field(world):
    app, rt, numbers = world
    client = member_login(app.test_client(), rt, "cw")  # the committee decides for every branch
    csrf = token(client)
    empty = client.post(f"/admin/approvals/{numbers['leave']}/reject", data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    assert "驳回须写明原因" in html
    assert 'aria-invalid="true"' in html
    done = client.post(f"/admin/approvals/{numbers['leave']}/reject", data={"csrf_token": csrf, "reason": "会议重要"})
    assert done.status_code == 302
    with rt.session() as s:
        row = s.exec(select(Approval).where(Approval.number == numbers["leave"])).one()
        assert (row.status, row.reason) == ("rejected", "会议重要")


def test_approvals_export_xlsx_with_chinese_headers(world):
    app, rt, numbers = world
    client = member_login(app.test_client(), rt, "cw")
    resp = client.get("/admin/approvals?format=xlsx")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("编号", "类别", "党员", "支部", "内容", "提交时间")
    assert {r[0] for r in rows[1:]} == {numbers["leave"], numbers["own"]}
    assert all(isinstance(r[0], int) for r in rows[1:])


def test_operator_account_sees_but_cannot_decide(world):
    from tests.test_admin import add_admin, login

    app, rt, numbers = world
    add_admin(rt)
    client = app.test_client()
    login(client)
    page = client.get("/admin/approvals").get_data(as_text=True)
    assert "运维账号只能查看" in page
    resp = client.post(f"/admin/approvals/{numbers['leave']}/approve", data={"csrf_token": token(client)})
    assert resp.status_code == 400
    assert "企业微信登录" in resp.get_data(as_text=True)
