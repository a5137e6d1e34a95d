"""Console authorization matrix: every `/admin` endpoint of the app's url_map × every console role.

The console roles on this base are the anonymous visitor and the operator admin (password login); the table
below must equal the url_map's admin endpoints, so a new page without an entry fails
`test_console_table_covers_the_url_map`. Anonymous: a page redirects to the login, a POST gets 401, nothing
changes. Admin: every page renders, every action works with the CSRF token and is refused (400, nothing
changed) without it. Nobody ever gets a 5xx.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot import clock, db
from bot.admin.principal import AREAS
from bot.models import Branch, Member, StudyItem, ThemeDay
from bot.web import build_app
from handlers import build_router
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster
from tests.test_admin import add_admin, csrf, login
from tests.test_authz_matrix import number_in, restore_sqlite, say, snapshot


@dataclass(frozen=True)
class Page:
    method: str
    path: str  # {b1} and {event} are filled in
    form: dict[str, str] = field(default_factory=dict)
    open: bool = False  # reachable without a login
    acts: bool = False  # a successful POST changes the database
    status: int = 0  # what an open page answers when not 200 (WeCom sign-in without [wecom], a bad link: 403)
    admin_status: int = 0  # what a POST answers the operator when not 302 (approvals: only members decide)


CONSOLE: dict[str, list[Page]] = {
    "admin.static": [Page("GET", "/admin/static/admin.css", open=True)],
    "admin.login": [Page("GET", "/admin/login", open=True), Page("POST", "/admin/login", open=True)],
    "admin.login_wecom": [Page("GET", "/admin/login/wecom", open=True, status=403)],
    "admin.login_wecom_callback": [Page("GET", "/admin/login/wecom/callback?code=x&state=y", open=True, status=403)],
    "admin.login_demo": [Page("GET", "/admin/login/demo?token=x", open=True, status=403)],
    "admin.logout": [Page("POST", "/admin/logout")],
    "admin.dashboard": [Page("GET", "/admin/")],
    "admin.members": [Page("GET", "/admin/members?q=党员&branch={b1}&active=1&page=2")],
    "admin.members_import": [Page("GET", "/admin/members/import"), Page("POST", "/admin/members/import",
                                                                         admin_status=400)],
    "admin.members_import_apply": [Page("POST", "/admin/members/import/apply")],
    "admin.member_edit": [Page("GET", "/admin/members/m1"), Page("POST", "/admin/members/m2", {"name": "党员丙丙"},
                                                                  acts=True)],
    "admin.study_library": [Page("GET", "/admin/study?month=2026-12"), Page("GET", "/admin/study?format=xlsx")],
    "admin.study_new": [Page("GET", "/admin/study/new"), Page("POST", "/admin/study/new", {
        "slug": "authz-1", "series": "理论摘编", "title": "标题", "summary": "摘要", "body": "正文"}, acts=True)],
    "admin.study_edit": [Page("GET", "/admin/study/authz-item"), Page("POST", "/admin/study/authz-item", {
        "series": "理论摘编", "title": "新标题", "summary": "摘要", "body": "正文"}, acts=True)],
    "admin.study_upload": [Page("GET", "/admin/study/upload"), Page("POST", "/admin/study/upload", admin_status=400)],
    "admin.study_step": [Page("POST", "/admin/study/authz-item/review", admin_status=400)],
    "admin.commitments_list": [Page("GET", "/admin/commitments?year=2026"),
                               Page("GET", "/admin/commitments?format=xlsx")],
    "admin.commitment_fulfil": [Page("POST", "/admin/commitments/999999/fulfil", admin_status=400)],
    "admin.reviews_list": [Page("GET", "/admin/reviews"), Page("GET", "/admin/reviews?format=xlsx")],
    "admin.review_rule": [Page("POST", "/admin/reviews/999999/rule", {"outcome": "维持", "note": "说明"},
                               admin_status=400)],
    "admin.deliveries": [Page("GET", "/admin/deliveries?status=failed&page=x")],
    "admin.delivery_retry": [Page("POST", "/admin/deliveries/999999/retry")],
    "admin.audit_log": [Page("GET", "/admin/audit?page=99999")],
    "admin.branches": [Page("GET", "/admin/branches")],
    "admin.branch_settings": [Page("POST", "/admin/branches/{b1}", {"ranking_enabled": "on", "push_enabled": "on"},
                                   acts=True)],
    "admin.theme_days": [Page("GET", "/admin/theme-days")],
    "admin.approvals_list": [Page("GET", "/admin/approvals"), Page("GET", "/admin/approvals?format=xlsx")],
    "admin.approval_approve": [Page("POST", "/admin/approvals/{leave}/approve", admin_status=400)],
    "admin.attendance_sheet": [Page("GET", "/admin/theme-days/{event}"),
                               Page("GET", "/admin/theme-days/{event}?format=xlsx")],
    "admin.attendance_fix": [Page("POST", "/admin/theme-days/{event}/fix", {"userid": "m1", "action": "signin"},
                                  admin_status=400)],
    "admin.theme_day_agenda_edit": [Page("POST", "/admin/theme-days/{event}/agenda", {"agenda": "学",
                                                                                      "guests": "王书记"}, acts=True)],
    "admin.signin_screen": [Page("GET", "/admin/theme-days/{event}/screen")],
    "admin.tickets_list": [Page("GET", "/admin/tickets"), Page("GET", "/admin/tickets?format=xlsx")],
    "admin.ticket_act": [Page("POST", "/admin/tickets/{leave}/grade", {"grade": "一般"}, admin_status=400)],
    "admin.points_table": [Page("GET", "/admin/points?year=2026&branch={b1}"),
                           Page("GET", "/admin/points?format=xlsx")],
    "admin.points_ledger": [Page("GET", "/admin/points/m1?year=2026"), Page("GET", "/admin/points/m1?format=xlsx")],
    "admin.approval_reject": [Page("POST", "/admin/approvals/{leave}/reject", {"reason": "不行"}, admin_status=400)],
    "admin.theme_day_create": [Page("POST", "/admin/theme-days", {"branch_id": "{b1}", "date": "2026-12-12",
                                                                  "time": "14:00", "place": "会议室",
                                                                  "topic": "学习党章"}, acts=True)],
    "admin.theme_day_postpone": [Page("POST", "/admin/theme-days/{event}/postpone",
                                      {"date": "2026-12-06", "time": "15:00"}, acts=True)],
    "admin.theme_day_cancel": [Page("POST", "/admin/theme-days/{event}/cancel", acts=True)],
}
CASES = [(endpoint, page) for endpoint, pages in CONSOLE.items() for page in pages]
IDS = [f"{endpoint}-{page.method}" for endpoint, page in CASES]


@pytest.fixture(scope="module")
def prepared_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, dict[str, int], Path]]:
    """A template database (roster, an admin, a theme day of b1 published through chat) and one app on a
    working copy of it."""
    clock.configure("Asia/Shanghai", DEFAULT_NOW)
    folder = tmp_path_factory.mktemp("console")
    template, work = folder / "template.db", folder / "case.db"
    db.upgrade(f"sqlite:///{template}")
    runtime = make_runtime(f"sqlite:///{template}")
    add_roster(runtime)
    add_admin(runtime)
    say(runtime, build_router(), "sec", "发布主题党日 2026-12-05 14:00 会议室 学习党章")
    leave = number_in(say(runtime, build_router(), "m1", "请假 出差在外"))
    with runtime.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
        s.add(Member(userid="ed", name="编辑己", branch_id=b1.id, roles="member;editor"))
        s.add(StudyItem(slug="authz-item", series="理论摘编", title="标题", summary="摘要", body="正文",
                        status="draft", editor="someone"))
    with runtime.session() as s:
        ids = {"b1": s.exec(select(Branch).where(Branch.code == "b1")).one().id,
               "event": s.exec(select(ThemeDay)).one().id, "leave": leave}
    runtime.close()
    shutil.copyfile(template, work)
    working = make_runtime(f"sqlite:///{work}")
    yield build_app(runtime=working), working, ids, template
    working.close()


@pytest.fixture
def console(prepared_console: tuple[Any, Any, dict[str, int], Path]) -> tuple[Any, Any, dict[str, int]]:
    """(app, runtime, ids) with the database back in its prepared state."""
    app, runtime, ids, template = prepared_console
    restore_sqlite(runtime, template)
    return app, runtime, ids


def fill(page: Page, ids: dict[str, int]) -> tuple[str, dict[str, str]]:
    return page.path.format(**ids), {k: v.format(**ids) for k, v in page.form.items()}


def test_console_table_covers_the_url_map(console):
    app, _, ids = console
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")}
    assert set(CONSOLE) == endpoints, ("add the new console endpoint to CONSOLE", endpoints ^ set(CONSOLE))
    adapter = app.url_map.bind("localhost")
    for endpoint, page in CASES:
        path, _ = fill(page, ids)
        assert adapter.match(path.split("?")[0], method=page.method)[0] == endpoint, (endpoint, path)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in CONSOLE:
            methods = rule.methods - {"HEAD", "OPTIONS"}
            assert methods == {p.method for p in CONSOLE[rule.endpoint]}, rule.endpoint


@pytest.mark.parametrize(("endpoint", "page"), CASES, ids=IDS)
def test_anonymous(console, endpoint, page):
    app, runtime, ids = console
    client = app.test_client()
    path, form = fill(page, ids)
    before = snapshot(runtime)
    resp = client.get(path) if page.method == "GET" else client.post(path, data=form)
    resp.close()
    assert resp.status_code < 500
    if page.open:
        assert resp.status_code == (page.status or (200 if page.method == "GET" else 400))  # login needs CSRF
    elif page.method == "GET":
        assert resp.status_code == 302
        assert resp.headers["Location"].startswith("/admin/login?next="), path
    else:
        assert resp.status_code == 401
    assert snapshot(runtime) == before


@pytest.mark.parametrize(("endpoint", "page"), CASES, ids=IDS)
def test_admin(console, endpoint, page):
    app, runtime, ids = console
    client = app.test_client()
    assert login(client).status_code == 302
    path, form = fill(page, ids)
    if page.method == "GET":
        resp = client.get(path)
        resp.close()
        assert resp.status_code == (page.status or 200), (path, resp.status_code)
        return
    if endpoint == "admin.login":
        return  # the login form itself: covered by tests/test_admin.py
    before = snapshot(runtime)
    refused = client.post(path, data=form)  # no CSRF token
    assert refused.status_code == 400
    assert snapshot(runtime) == before
    done = client.post(path, data={**form, "csrf_token": csrf(client, "/admin/")})
    assert done.status_code == (page.admin_status or 302), (path, done.status_code, done.get_data(as_text=True)[:200])
    if page.acts:
        assert snapshot(runtime) != before, path
    if endpoint == "admin.logout":
        assert client.get("/admin/").status_code == 302  # the session is over


@pytest.mark.parametrize("path", ["/admin/branches/999999", "/admin/theme-days/999999/postpone",
                                  "/admin/theme-days/999999/cancel"])
def test_admin_unknown_ids_are_404(console, path):
    app, runtime, _ = console
    client = app.test_client()
    login(client)
    before = snapshot(runtime)
    resp = client.post(path, data={"csrf_token": csrf(client, "/admin/"), "date": "2026-12-06", "time": "15:00"})
    assert resp.status_code == 404
    assert snapshot(runtime) == before


ROLE_AREAS = {"ed": {"any", "study"}, "sec": {"any", "branch"}, "cw": {"any", "branch", "study", "global"}}


@pytest.mark.parametrize("userid", sorted(ROLE_AREAS))
def test_member_roles_reach_their_areas_only(console, userid):
    """WeCom-signed-in members: a page outside the role's area is 403 (a POST too, nothing changed)."""
    from tests.test_console_scope import member_login

    app, runtime, ids = console
    client = member_login(app.test_client(), runtime, userid)
    token = csrf(client, "/admin/")
    for endpoint, page in CASES:
        if page.open:
            continue
        where = AREAS.get(endpoint, "global")
        path, form = fill(page, ids)
        if where in ROLE_AREAS[userid]:
            if page.method == "GET":
                assert client.get(path).status_code == 200, (userid, path)
            continue
        before = snapshot(runtime)
        resp = client.get(path) if page.method == "GET" else client.post(path, data={**form, "csrf_token": token})
        assert resp.status_code == 403, (userid, path, resp.status_code)
        assert snapshot(runtime) == before
