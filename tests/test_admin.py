"""The admin console on SQLite and PostgreSQL: login, throttle, CSRF, pages, branch settings, create-admin."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import select

from bot import clock
from bot.admin import auth, throttle
from bot.cli import cli
from bot.models import AdminUser, AuditLog, Branch, Delivery, JobRun, LoginThrottle, Member, OutboundMessage
from bot.web import build_app
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster

PASSWORD = "correct horse 9"
PAGES = ("/admin/", "/admin/members", "/admin/deliveries", "/admin/audit", "/admin/branches")
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(runtime):
    app = build_app(runtime=runtime)
    assert "admin" in app.blueprints  # bot/web.py mounts the console itself
    return app


def add_admin(runtime, username="boss", password=PASSWORD):
    with runtime.session() as s:
        s.add(AdminUser(username=username, password_hash=auth.hash_password(password), created_at=clock.now()))


def csrf(client, path="/admin/login"):
    return TOKEN_RE.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, username="boss", password=PASSWORD, **extra):
    data = {"csrf_token": csrf(client), "username": username, "password": password, **extra}
    return client.post("/admin/login", data=data)


def audits(runtime, action):
    with runtime.session() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


@pytest.fixture
def console(backend):
    runtime = make_runtime(backend)
    add_admin(runtime)
    yield make_app(runtime).test_client(), runtime
    runtime.close()


def test_anonymous_is_sent_to_login_everywhere(console):
    client, _ = console
    for path in PAGES:
        resp = client.get(path)
        assert resp.status_code == 302, path
        assert resp.headers["Location"].startswith("/admin/login?next="), path
    assert client.post("/admin/branches/1", data={}).status_code == 401
    assert client.post("/admin/logout").status_code == 401
    assert client.get("/admin/members", headers={"Accept": "application/json"}).status_code == 401
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert "管理后台登录" in page.get_data(as_text=True)
    with client.get("/admin/static/admin.css") as css:
        assert css.status_code == 200
        assert "no-store" not in css.headers.get("Cache-Control", "")


def test_dashboard_warns_when_chinese_calendar_lacks_next_year(console):
    client, _ = console
    login(client)
    html = client.get("/admin/").get_data(as_text=True)  # November 2026: 2027 has no official data
    assert 'id="calendar-warning"' in html
    assert "2027 年" in html
    assert "extra_workdays" in html
    clock.freeze(dt.datetime(2026, 10, 15, 9, 0, tzinfo=clock.tz()))
    page = client.get("/admin/")
    assert page.status_code == 200
    assert 'id="calendar-warning"' not in page.get_data(as_text=True)


def test_wrong_password_is_refused_and_audited(console):
    client, rt = console
    resp = login(client, password="wrong-password-x")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert login(client, username="nobody").status_code == 401
    assert client.get("/admin/").status_code == 302
    failed = audits(rt, "admin.login_failed")
    assert [(a.actor, a.target) for a in failed] == [("anonymous", "admin:boss"), ("anonymous", "admin:nobody")]
    assert "wrong password" in failed[0].detail
    assert "ip=127.0.0.1" in failed[0].detail
    with rt.session() as s:
        every = " ".join(f"{a.target} {a.detail}" for a in s.exec(select(AuditLog)))
    assert "wrong-password-x" not in every
    assert PASSWORD not in every


@pytest.mark.parametrize("store", ["database", "redis"])
def test_throttle_after_five_failures(backend, store, request):
    sections = {}
    if store == "redis":
        sections["redis"] = {"url": request.getfixturevalue("redis_url"),
                             "prefix": request.getfixturevalue("redis_prefix")}
    rt = make_runtime(backend, **sections)
    add_admin(rt)
    client = make_app(rt).test_client()
    for _ in range(throttle.MAX_FAILURES):
        assert login(client, password="not-it-1234").status_code == 401
    refused = login(client)  # even the right password, from the same IP
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert len(audits(rt, "admin.login_throttled")) == 1
    assert len(audits(rt, "admin.login_failed")) == throttle.MAX_FAILURES
    other = make_app(rt).test_client()  # another IP is not blocked
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login(other).status_code == 302
    if store == "database":  # the window ends: the row's wall-clock expiry passes
        with rt.session() as s:
            s.execute(update(LoginThrottle).values(expires=0.0))
        assert login(client).status_code == 302
    rt.close()


def seed_deliveries(rt):
    today = DEFAULT_NOW - dt.timedelta(hours=1)
    plan = [  # (created, [(recipient, status, last_error)])
        (today, [("m1", "sent", None), ("m2", "failed", "errcode 48001: api forbidden"),
                 ("sec", "queued", None)]),
        (DEFAULT_NOW - dt.timedelta(days=2), [("m1", "failed", "errcode 60020: ip not allowed")]),
        (DEFAULT_NOW - dt.timedelta(days=10), [("m1", "failed", "errcode 40001: ancient")]),
        (DEFAULT_NOW - dt.timedelta(days=1), [("m1", "sent", None), ("m2", "failed", "invaliduser")]),
    ]
    with rt.session() as s:
        for created, rows in plan:
            msg = OutboundMessage(channel="wecom", kind="text", payload="{}", created_at=created)
            s.add(msg)
            s.flush()
            for recipient, status, error in rows:
                s.add(Delivery(message_id=msg.id, recipient=recipient, status=status, last_error=error,
                               created_at=created))
                if error and error.startswith("errcode"):  # what the outbox writes for a configuration error
                    s.add(AuditLog(at=created, actor="outbox", action="delivery_config_error",
                                   target=f"message:{msg.id}", detail=f"wecom/text: {error}; 1 deliveries failed"))
        s.add(JobRun(job="morning_study", run_date=DEFAULT_NOW.date(), status="done", detail="sent=4",
                     started_at=DEFAULT_NOW, finished_at=DEFAULT_NOW))


def number(html, ident):
    return int(re.search(rf'id="{ident}">(\d+)<', html).group(1))


def test_login_shows_dashboard_with_counts(console):
    client, rt = console
    add_roster(rt)
    seed_deliveries(rt)
    before = csrf(client)
    resp = login(client, username=" BOSS ", next="/admin/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/admin/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    page = client.get("/admin/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (number(html, "members-active"), number(html, "members-inactive"), number(html, "branches")) == (4, 1, 2)
    assert [number(html, f"today-{s}") for s in ("sent", "failed", "queued", "expired")] == [1, 1, 1, 0]
    assert number(html, "failed-week") == 3  # two config errors and one invaliduser, not the 10-day-old one
    assert number(html, "alert-count") == 2
    assert "errcode 48001: api forbidden" in html
    assert "errcode 60020" in html
    assert "invaliduser" not in html  # a per-recipient failure, not a configuration alert
    assert "ancient" not in html
    assert "morning_study" in html
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert TOKEN_RE.search(html).group(1) != before  # the session (and its CSRF token) changed at login
    login_rows = audits(rt, "admin.login")
    assert [(a.actor, a.target) for a in login_rows] == [("boss", "admin:boss")]


def test_next_is_only_followed_inside_the_console(console):
    client, _ = console
    assert login(client, next="/admin/members?q=x").headers["Location"] == "/admin/members?q=x"
    other = console[0].application.test_client()
    assert login(other, next="//evil.example/admin/").headers["Location"] == "/admin/"


def test_post_without_or_with_wrong_csrf_is_400_and_changes_nothing(console):
    client, rt = console
    add_roster(rt)
    assert client.post("/admin/login", data={"username": "boss", "password": PASSWORD}).status_code == 400
    assert login(client).status_code == 302
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
    form = {"ranking_enabled": "on"}
    assert client.post(f"/admin/branches/{b1.id}", data=form).status_code == 400
    assert client.post(f"/admin/branches/{b1.id}", data={**form, "csrf_token": "forged"}).status_code == 400
    assert client.post("/admin/logout", data={"csrf_token": ""}).status_code == 400
    with rt.session() as s:
        again = s.get(Branch, b1.id)
        assert (again.push_enabled, again.ranking_enabled) == (True, None)
    assert audits(rt, "branch.settings") == []
    assert client.get("/admin/").status_code == 200  # still logged in


def test_branch_settings_are_saved_and_audited(console):
    client, rt = console
    add_roster(rt)
    login(client)
    page = client.get("/admin/branches").get_data(as_text=True)
    assert "公司党委" in page
    assert "第一党支部" in page
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
    token = TOKEN_RE.search(page).group(1)
    resp = client.post(f"/admin/branches/{b1.id}", data={"csrf_token": token, "ranking_enabled": "on"})
    assert resp.status_code == 302
    assert "已保存" in client.get("/admin/branches").get_data(as_text=True)
    with rt.session() as s:
        saved = s.get(Branch, b1.id)
        assert (saved.push_enabled, saved.ranking_enabled) == (False, True)
    rows = audits(rt, "branch.settings")
    assert [(a.actor, a.target) for a in rows] == [("boss", "branch:b1")]
    assert "push_enabled: True -> False" in rows[0].detail
    assert "ranking_enabled: None -> True" in rows[0].detail
    same = {"csrf_token": token, "ranking_enabled": "on"}
    assert client.post(f"/admin/branches/{b1.id}", data=same).status_code == 302
    assert len(audits(rt, "branch.settings")) == 1  # nothing changed, nothing logged
    assert client.post("/admin/branches/99999", data=same).status_code == 404
    assert client.post(f"/admin/branches/{b1.id}", data={**same, "ranking_enabled": "x"}).status_code == 400


def test_members_page_masks_phones_filters_and_pages(console):
    client, rt = console
    add_roster(rt)
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
        s.add_all(Member(userid=f"x{i:03d}", name=f"批量{i}", branch_id=b1.id, phone=f"1390000{i:04d}")
                  for i in range(60))
    login(client)
    html = client.get("/admin/members").get_data(as_text=True)
    assert "138****1234" in html
    assert "13800001234" not in html
    assert not re.search(r"1[3-9]\d{9}", html)
    assert "共 65 条" in html
    assert "第 1 / 2 页" in html
    second = client.get("/admin/members?page=2").get_data(as_text=True)
    assert "x059" in second
    assert "x000" not in second
    found = client.get("/admin/members?q=乙").get_data(as_text=True)
    assert "党员乙" in found
    assert "党员丙" not in found
    assert "共 1 条" in found
    assert "共 0 条" in client.get("/admin/members?q=100%25").get_data(as_text=True)  # LIKE wildcards escaped
    inactive = client.get("/admin/members?active=0").get_data(as_text=True)
    assert "离册丁" in inactive
    assert "共 1 条" in inactive
    with rt.session() as s:
        top = s.exec(select(Branch).where(Branch.code == "dw")).one()
    by_branch = client.get(f"/admin/members?branch={top.id}").get_data(as_text=True)
    assert "委员戊" in by_branch
    assert "共 1 条" in by_branch


def test_deliveries_and_audit_pages(console):
    client, rt = console
    add_roster(rt)
    seed_deliveries(rt)
    login(client)
    failed = client.get("/admin/deliveries?status=failed").get_data(as_text=True)
    assert "errcode 48001: api forbidden" in failed
    assert "invaliduser" in failed
    assert "已送达" not in failed.split("<tbody>")[1]
    everything = client.get("/admin/deliveries").get_data(as_text=True)
    assert everything.count('class="st-') == 7
    log_page = client.get("/admin/audit").get_data(as_text=True)
    assert "admin.login" in log_page
    assert "admin:boss" in log_page
    assert "admin.login" in client.get("/admin/audit?action=login").get_data(as_text=True)


def test_logout_and_password_change_end_the_session(console):
    client, rt = console
    login(client)
    token = csrf(client, "/admin/")
    resp = client.post("/admin/logout", data={"csrf_token": token})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302
    assert [a.actor for a in audits(rt, "admin.logout")] == ["boss"]
    login(client)
    assert client.get("/admin/").status_code == 200
    with rt.session() as s:
        s.execute(update(AdminUser).values(password_hash=auth.hash_password("another-password")))
    assert client.get("/admin/").status_code == 302


def run_cli(url, *args, stdin=""):
    """`dangjian ARGS` in this process (click's runner: exit status, stdout and stderr kept apart); a fresh
    interpreter per call cost ~1 s each. `python -m bot` itself is started in test_cli_startup."""
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False,
                                env={"DANGJIAN_DATABASE_URL": url, "DANGJIAN_CONFIG": None})
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_console_passwords_use_werkzeugs_full_scrypt_cost(production_hash):
    """The other tests hash at a test cost (conftest.cheap_password_hashes); the console itself uses
    werkzeug's scrypt default, for stored passwords and for the unknown-user dummy alike."""
    stored = auth.hash_password(PASSWORD)
    assert stored.startswith("scrypt:32768:8:1$")
    assert auth.verify(stored, PASSWORD)
    assert not auth.verify(stored, "wrong password 1")
    assert not auth.verify(None, PASSWORD)  # an unknown username spends the same time on the dummy
    assert auth._dummy_hash().startswith("scrypt:32768:8:1$")


def test_create_admin_cli_then_login(backend):
    made = run_cli(backend, "create-admin", "Chief", "--password-stdin", stdin="first-pass-123\n")
    assert made.returncode == 0, made.stderr
    assert "admin chief created" in made.stdout
    again = run_cli(backend, "create-admin", "chief", "--password-stdin", stdin="second-pass-456\n")
    assert again.returncode == 0, again.stderr
    assert "password updated" in again.stdout
    short = run_cli(backend, "create-admin", "tiny", "--password-stdin", stdin="short\n")
    assert short.returncode == 2
    assert "at least 8" in short.stderr
    assert "Traceback" not in short.stderr
    bad_name = run_cli(backend, "create-admin", "a b", "--password-stdin", stdin="long-enough-1\n")
    assert bad_name.returncode == 2
    rt = make_runtime(backend)
    with rt.session() as s:
        assert [u.username for u in s.exec(select(AdminUser))] == ["chief"]
    assert [a.action for a in audits(rt, "admin.create") + audits(rt, "admin.password")] == \
        ["admin.create", "admin.password"]
    client = make_app(rt).test_client()
    assert login(client, "chief", "first-pass-123").status_code == 401
    assert login(client, "Chief", "second-pass-456").status_code == 302
    assert client.get("/admin/").status_code == 200
    rt.close()


def _replay(app, cookie):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_copied_cookie_dies_with_logout(console):
    client, _rt = console
    login(client)
    stolen = client.get_cookie("session").value
    assert _replay(client.application, stolen).get("/admin/").status_code == 200
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    replayed = _replay(client.application, stolen).get("/admin/")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/admin/login")
    assert _replay(client.application, stolen).post("/admin/branches/1", data={}).status_code == 401
    login(client)  # a new login works again
    assert client.get("/admin/").status_code == 200


def test_password_change_and_disable_end_every_session(console):
    client, rt = console
    url = str(rt.engine.url.render_as_string(hide_password=False))
    login(client)
    stolen = client.get_cookie("session").value
    changed = run_cli(url, "create-admin", "boss", "--password-stdin", stdin=PASSWORD + "\n")  # same password
    assert changed.returncode == 0, changed.stderr
    assert _replay(client.application, stolen).get("/admin/").status_code == 302
    login(client)
    stolen = client.get_cookie("session").value
    off = run_cli(url, "create-admin", "boss", "--disable")
    assert off.returncode == 0, off.stderr
    assert "disabled" in off.stdout
    assert _replay(client.application, stolen).get("/admin/").status_code == 302
    assert login(client).status_code == 401  # a deactivated login cannot sign in again
    assert audits(rt, "admin.login_failed")[-1].detail.endswith("deactivated")
    assert run_cli(url, "create-admin", "nobody", "--disable").returncode == 2
    assert run_cli(url, "create-admin", "boss", "--password-stdin", stdin="brand-new-pass\n").returncode == 0
    assert login(client, password="brand-new-pass").status_code == 302  # a new password re-activates it


@pytest.mark.parametrize("store", ["database", "redis"])
def test_concurrent_wrong_passwords_cannot_overrun_the_limit(backend, store, request):
    import threading

    sections = {}
    if store == "redis":
        sections["redis"] = {"url": request.getfixturevalue("redis_url"),
                             "prefix": request.getfixturevalue("redis_prefix")}
    rt = make_runtime(backend, **sections)
    add_admin(rt)
    app = make_app(rt)
    clients = [app.test_client() for _ in range(20)]
    tokens = [csrf(c) for c in clients]
    statuses: list[int] = []
    barrier = threading.Barrier(len(clients))

    def guess(client, token):
        barrier.wait()
        resp = client.post("/admin/login", data={"csrf_token": token, "username": "boss", "password": "guess-1234"})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [401] * throttle.MAX_FAILURES + [429] * (20 - throttle.MAX_FAILURES)
    assert len(audits(rt, "admin.login_failed")) == throttle.MAX_FAILURES  # passwords actually checked
    rt.close()


def test_one_address_spraying_usernames_is_stopped(console):
    client, _rt = console
    for i in range(throttle.LIMITS["ip"]):
        assert login(client, username=f"user{i}").status_code == 401
    assert login(client).status_code == 429  # the right password, but this address used up its attempts
    elsewhere = client.application.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert login(elsewhere).status_code == 302


def test_the_address_limit_sees_through_a_trusted_proxy(backend):
    rt = make_runtime(backend, app={"trusted_proxies": 1})
    add_admin(rt)
    client = make_app(rt).test_client()  # every request comes from the proxy at 127.0.0.1

    def attempt(forwarded_for, password="not-it-1234"):
        data = {"csrf_token": csrf(client), "username": "boss", "password": password}
        return client.post("/admin/login", data=data, headers={"X-Forwarded-For": forwarded_for}).status_code

    for _ in range(throttle.MAX_FAILURES):
        assert attempt("203.0.113.5") == 401
    assert attempt("203.0.113.5", PASSWORD) == 429
    assert attempt("198.51.100.8", PASSWORD) == 302  # another client behind the same proxy
    rt.close()


def test_control_characters_are_refused_at_the_console_edge(console):
    client, rt = console
    add_roster(rt)
    token = csrf(client)
    for form in ({"username": "bo\x00ss", "password": PASSWORD}, {"username": "boss", "password": "x\x00" * 5},
                 {"username": "boss", "password": PASSWORD, "next": "/admin/\x01"}):
        resp = client.post("/admin/login", data={"csrf_token": token, **form})
        assert resp.status_code == 400, form
        assert "控制字符" in resp.get_data(as_text=True)
    assert audits(rt, "admin.login_failed") == []  # refused before the login looked at anything
    assert login(client).status_code == 302
    for path in ("/admin/members?q=%00", "/admin/members?q=a%00b", "/admin/audit?action=%00",
                 "/admin/deliveries?status=%1b", "/admin/members?branch=1&%00=x"):
        resp = client.get(path)
        assert resp.status_code == 400, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/admin/members?q=%E4%B9%99").status_code == 200
    token = csrf(client, "/admin/theme-days")
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
    form = {"csrf_token": token, "branch_id": str(b1.id), "date": "2026-12-05", "time": "14:30",
            "place": "会议室\x00", "topic": "学习党章"}
    assert client.post("/admin/theme-days", data=form).status_code == 400
    assert client.post(f"/admin/branches/{b1.id}", data={"csrf_token": token, "ranking_enabled": "on\x00"}) \
        .status_code == 400
    with rt.session() as s:
        assert s.get(Branch, b1.id).ranking_enabled is None
    assert audits(rt, "branch.settings") == []
    assert client.post("/admin/theme-days", data={**form, "place": "会议室"}).status_code == 302


def test_one_username_from_many_addresses_is_capped(backend):
    rt = make_runtime(backend)
    gate = throttle.LoginThrottle(rt)
    limit = throttle.LIMITS["user"]
    assert all(gate.attempt("boss", f"10.0.{i // 200}.{i % 200}") for i in range(limit))
    assert not gate.attempt("boss", "192.0.2.1")  # a fresh address, but this username used up its window
    assert gate.attempt("other", "192.0.2.1")
    gate.succeeded("other", "192.0.2.1")  # a success gives its own attempt back
    keys = throttle._keys("other", "192.0.2.1")
    with rt.session() as s:
        counts = {row.key.removeprefix("admin-login:"): row.count for row in s.exec(select(LoginThrottle))}
    rt.close()
    assert keys["pair"] not in counts
    assert (counts[keys["ip"]], counts[keys["user"]]) == (1, 0)  # 192.0.2.1 keeps the refused boss attempt
    assert counts[throttle._keys("boss", "192.0.2.1")["user"]] == limit + 1
