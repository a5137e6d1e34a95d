"""A fake WeCom / Official Account / group robot API: a real HTTP server on 127.0.0.1 (random port).

The `fake_wecom` fixture yields a `FakeWecom`: `.url` (use it as `api_base_url`), `.calls` (every
request: method, path, query, JSON body, arrival time `t`), `.delivered` (per userid/openid: the
accepted message bodies, in order), `.duplicates` (dropped by enable_duplicate_check), `.robots` (per
webhook key) and controls:
`fail_next(errcode, times, path)`, `fail_with_status(status, times)`, `delay(seconds, times)`,
`invalid_users({...})`, `unlicensed_users({...})`, `login_as(userid=…|openid=…)` (who the stand-in
login pages at `OAUTH` and `SSO` sign in: they redirect to `redirect_uri` with a one-time code and the
`state`, which `/cgi-bin/auth/getuserinfo` resolves; `.logins` lists the pages' queries),
`expire_token()` (the next authenticated call answers
42001 once), `out_of_window({...})` (Official Account 45047), `gettoken_calls`. Like WeCom, it refuses a
template card whose `task_id` it accepted before (in this fake's lifetime), or an empty or >128-byte one,
with 42014 before any duplicate check: `.task_ids` (accepted), `.refused_task_ids`.

Tests use it with `pytest_plugins = ("tests.fakewecom",)` (or the same line in tests/conftest.py).
"""

from __future__ import annotations

import collections
import contextlib
import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.runtime import Runtime
from tests.conftest import make_runtime

SEND = "/cgi-bin/message/send"
CUSTOM_SEND = "/cgi-bin/message/custom/send"
WEBHOOK = "/cgi-bin/webhook/send"
MENU = "/cgi-bin/menu/create"
TOKEN_PATHS = ("/cgi-bin/gettoken", "/cgi-bin/token")
OAUTH = "/connect/oauth2/authorize"
SSO = "/wwlogin/sso/login"
GETUSERINFO = "/cgi-bin/auth/getuserinfo"
BAD_SECRET = "bad-secret"
TASK_ID_EXISTS = 42014  # WeCom: "taskid has existed or empty or exceed max len"


class FakeWecom:
    """State and controls of the fake platform; thread-safe (the server answers in threads)."""

    SEND = SEND

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.delivered: dict[str, list[Any]] = collections.defaultdict(list)
        self.duplicates: list[tuple[str, Any]] = []
        self.robots: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.menus: dict[str, Any] = {}  # agentid -> the last menu published
        self.tokens: set[str] = set()
        self.task_ids: set[str] = set()  # every template card task_id accepted, for the fake's lifetime
        self.refused_task_ids: list[str] = []  # answered 42014
        self.token_expires_in = 7200
        self.token_delay = 0.0
        self._fails: dict[str, collections.deque[int]] = collections.defaultdict(collections.deque)
        self._statuses: collections.deque[int] = collections.deque()
        self._delays: collections.deque[float] = collections.deque()
        self._delay_all = 0.0
        self._invalid: set[str] = set()
        self._unlicensed: set[str] = set()
        self._out_of_window: set[str] = set()
        self._expire = False
        self._seen: dict[tuple[str, str], float] = {}
        self.identity: dict[str, str] = {}  # who the login pages sign in: {"userid": …} or {"openid": …}
        self.codes: dict[str, dict[str, str]] = {}  # one-time login codes
        self.logins: list[dict[str, str]] = []  # the login pages' queries
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    # controls -------------------------------------------------------------------------------------
    def fail_next(self, errcode: int, times: int = 1, path: str = SEND) -> None:
        with self.lock:
            self._fails[path].extend([errcode] * times)

    def fail_with_status(self, status: int, times: int = 1) -> None:
        with self.lock:
            self._statuses.extend([status] * times)

    def delay(self, seconds: float, times: int | None = None) -> None:
        """Delay the next `times` message sends (every one when None) before answering."""
        with self.lock:
            if times is None:
                self._delay_all = seconds
            else:
                self._delays.extend([seconds] * times)

    def invalid_users(self, userids: set[str]) -> None:
        self._invalid = set(userids)

    def unlicensed_users(self, userids: set[str]) -> None:
        self._unlicensed = set(userids)

    def out_of_window(self, openids: set[str]) -> None:
        self._out_of_window = set(openids)

    def login_as(self, userid: str = "", openid: str = "") -> None:
        self.identity = {"userid": userid} if userid else {"openid": openid}

    def login_page(self, path: str, query: dict[str, str]) -> str:
        """The stand-in for WeCom's OAuth2 / QR login page: where it sends the browser back to."""
        code = f"code-{uuid.uuid4().hex[:12]}"
        with self.lock:
            self.calls.append({"method": "GET", "path": path, "query": query, "body": None, "t": time.monotonic()})
            self.logins.append(query)
            self.codes[code] = dict(self.identity)
        sep = "&" if "?" in query.get("redirect_uri", "") else "?"
        return f"{query.get('redirect_uri', '')}{sep}code={code}&state={query.get('state', '')}"

    def expire_token(self) -> None:
        self._expire = True

    def sections(self, **sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Config sections pointing at this fake (see `wecom_sections`)."""
        return wecom_sections(self, **sections)

    # views ----------------------------------------------------------------------------------------
    @property
    def gettoken_calls(self) -> int:
        return sum(1 for c in self.calls if c["path"] in TOKEN_PATHS)

    def sends(self, path: str = SEND) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["path"] == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.sends(path)) >= count:
                return True
            time.sleep(0.01)
        return False

    # lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    # behaviour ------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls.append({"method": method, "path": path, "query": query, "body": body, "t": time.monotonic()})
            status = self._statuses.popleft() if self._statuses and path in (SEND, CUSTOM_SEND) else None
            fail = self._fails[path].popleft() if self._fails[path] else None
            wait = self._delays.popleft() if self._delays and path in (SEND, CUSTOM_SEND) else 0.0
            wait = wait or (self._delay_all if path in (SEND, CUSTOM_SEND) else 0.0)
        if path in TOKEN_PATHS:
            return 200, self._token(query)
        if status:
            return status, {"error": "fake status"}
        if wait:
            time.sleep(wait)
        if fail is not None:
            return 200, {"errcode": fail, "errmsg": f"fake error {fail}"}
        if path == WEBHOOK:
            self.robots[query.get("key", "")].append(body)
            return 200, {"errcode": 0, "errmsg": "ok"}
        with self.lock:
            if query.get("access_token") not in self.tokens:
                return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
            if self._expire:
                self._expire = False
                self.tokens.clear()
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
        if path == SEND:
            return 200, self._send(body)
        if path == CUSTOM_SEND:
            return 200, self._custom_send(body)
        if path == GETUSERINFO:
            with self.lock:
                who = self.codes.pop(query.get("code", ""), None)
            if who is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {"errcode": 0, "errmsg": "ok", **who}
        if path == MENU:
            self.menus[query.get("agentid", "")] = body
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": "no such fake endpoint"}

    def _token(self, query: dict[str, str]) -> dict[str, Any]:
        if self.token_delay:
            time.sleep(self.token_delay)
        if BAD_SECRET in (query.get("corpsecret"), query.get("secret")):
            return {"errcode": 40001, "errmsg": "invalid credential"}
        token = f"tok-{uuid.uuid4().hex[:10]}"
        with self.lock:
            self.tokens.add(token)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_expires_in}

    def _accept(self, userid: str, msgtype: str, content: Any, check: bool, interval: float) -> None:
        """Deliver, or drop as a duplicate (same msgtype+content to the same user within the interval)."""
        fingerprint = msgtype + json.dumps(content, sort_keys=True, ensure_ascii=False)
        now = time.monotonic()
        with self.lock:
            seen = self._seen.get((userid, fingerprint))
            if check and seen is not None and now - seen < interval:
                self.duplicates.append((userid, content))
                return
            self._seen[(userid, fingerprint)] = now
            self.delivered[userid].append(content)

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        invalid = [u for u in users if u in self._invalid]
        unlicensed = [u for u in users if u in self._unlicensed]
        good = [u for u in users if u not in invalid and u not in unlicensed]
        if not good:
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        msgtype = body.get("msgtype", "")
        if msgtype == "template_card":  # checked before anything else, duplicate check or not
            task_id = str((body.get("template_card") or {}).get("task_id") or "")
            with self.lock:
                if not task_id or len(task_id.encode()) > 128 or task_id in self.task_ids:
                    self.refused_task_ids.append(task_id)
                    return {"errcode": TASK_ID_EXISTS, "errmsg": "taskid has existed or empty or exceed max len"}
                self.task_ids.add(task_id)
        check = bool(body.get("enable_duplicate_check"))
        interval = float(body.get("duplicate_check_interval", 1800))
        for userid in good:
            self._accept(userid, msgtype, body.get(msgtype), check, interval)
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": uuid.uuid4().hex}
        if invalid:
            answer["invaliduser"] = "|".join(invalid)
        if unlicensed:
            answer["unlicenseduser"] = "|".join(unlicensed)
        return answer

    def _custom_send(self, body: dict[str, Any]) -> dict[str, Any]:
        openid = str(body.get("touser", ""))
        if openid in self._out_of_window:
            return {"errcode": 45047, "errmsg": "out of response count limit"}
        msgtype = body.get("msgtype", "")
        self._accept(openid, msgtype, body.get(msgtype), False, 0)
        return {"errcode": 0, "errmsg": "ok"}


class _Handler(http.server.BaseHTTPRequestHandler):
    server: http.server.ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path in (OAUTH, SSO):
            target = self.server.fake.login_page(parts.path, query)  # type: ignore[attr-defined]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw.decode("utf-8")) if raw else None
        status, answer = self.server.fake.handle(method, parts.path, query, body)  # type: ignore[attr-defined]
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client may have been killed
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")


def wecom_sections(fake: FakeWecom, **sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Config sections that point WeCom and the Official Account at the fake, with fast backoff."""
    merged: dict[str, dict[str, Any]] = {
        "wecom": {"corp_id": "wwfake", "agent_id": 1000002, "secret": "fake-secret",
                  "api_base_url": fake.url, "timeout": 2.0, "oauth_url": fake.url + OAUTH, "sso_url": fake.url + SSO},
        "wechat": {"app_id": "wxfake", "app_secret": "fake-app-secret", "api_base_url": fake.url,
                   "timeout": 2.0},
        "delivery": {"backoff_seconds": 0.05, "backoff_max_seconds": 1.0},
        # a configured platform refuses the default keys (serve, worker, scheduler)
        "app": {"secret_key": "fake-platform-secret-key", "seal_key": "fake-platform-seal-key"},
    }
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return merged


@pytest.fixture
def make_rt(backend: str, fake_wecom: FakeWecom) -> Iterator[Callable[..., Runtime]]:
    """Build runtimes on the test database (SQLite and PostgreSQL) wired to the fake; closed afterwards."""
    made: list[Runtime] = []

    def build(**sections: dict[str, Any]) -> Runtime:
        runtime = make_runtime(backend, **wecom_sections(fake_wecom, **sections))
        made.append(runtime)
        return runtime

    yield build
    for runtime in made:
        runtime.close()


@pytest.fixture
def fake_wecom() -> Iterator[FakeWecom]:
    """A running fake platform; stopped after the test."""
    fake = FakeWecom()
    fake.start()
    yield fake
    fake.stop()
