"""Our own small client for the WeCom and Official Account HTTP APIs (wechatpy is kept for callback
crypto, parsing and passive replies only, so a wechatpy upgrade cannot break sending).

- every call, the token endpoint included, goes to the configured `api_base_url`;
- every request has a timeout (`[wecom] timeout` / `[wechat] timeout`);
- the access token is shared by every process (`bot.channels.tokens.TokenCache`);
- a token error (40014 invalid, 42001 expired; 40001 on an Official Account) refreshes the token once and
  retries once, no more;
- a connection that could not be made is tried again a bounded number of times (`attempts`);
- the answer is a dict with errcode 0, or a `PlatformError` (errcode, errmsg, HTTP status) is raised,
  which `bot.channels.senders.classify` turns into a transient or a configuration error.

    client = wecom_client(runtime)
    client.post("message/send", {...})
    client.get("auth/getuserinfo", {"code": code})
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from bot.channels.tokens import TokenCache

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

RETRY_PAUSE = 0.2  # seconds before a connection is tried again (monotonic; times the attempt number)


class PlatformError(Exception):
    """The platform answered an errcode other than 0 (`errcode`), or an HTTP error / a body that is not a
    JSON object (`errcode` None, `status` the HTTP status)."""

    def __init__(self, errcode: int | None, errmsg: str = "", status: int | None = None) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}" if errcode is not None else f"HTTP {status}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.status = status


@dataclass(frozen=True)
class App:
    """What differs between the platforms: where and how a token is fetched, which errcodes mean "token"."""

    cache_id: str  # e.g. "wecom:<corp id>": names the shared token (with a digest of the secret)
    secret: str
    token_path: str  # under the base URL, e.g. "/cgi-bin/gettoken"
    token_params: dict[str, str] = field(default_factory=dict)
    token_errors: frozenset[int] = frozenset({40014, 42001})


class PlatformClient:
    """A requests session against one app of one platform; see the module docstring."""

    def __init__(self, runtime: Runtime, app: App, base_url: str, timeout: float, attempts: int = 2) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.tokens = TokenCache(runtime, app.cache_id, app.secret, timeout)
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        """`message/send` and `/cgi-bin/message/send` both name `<base>/cgi-bin/message/send`."""
        path = path.lstrip("/")
        return f"{self.base_url}/{path if path.startswith('cgi-bin/') else 'cgi-bin/' + path}"

    # -- token ----------------------------------------------------------------------------------------

    @property
    def access_token(self) -> str:
        return self.tokens.get() or self.tokens.refresh(self._fetch_token, stale=None)

    def refresh_token(self, stale: str | None = None) -> str:
        """A new token unless another process replaced `stale` already (default: the current one)."""
        return self.tokens.refresh(self._fetch_token, stale=stale if stale is not None else self.tokens.get())

    def _fetch_token(self) -> tuple[str, int]:
        result = self._send("GET", self.url(self.app.token_path), params=dict(self.app.token_params))
        log.info("fetched a new access token from %s", self.url(self.app.token_path))
        return str(result["access_token"]), int(result.get("expires_in", 7200))

    # -- calls ----------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call("POST", path, params=params, body=body)

    def call(self, method: str, path: str, params: dict[str, Any] | None = None,
             body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One API call with the access token; a token error refreshes it once and retries once."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        for attempt in (1, 2):
            token = self.access_token
            try:
                return self._send(method, self.url(path), params={**(params or {}), "access_token": token},
                                  data=data)
            except PlatformError as exc:
                if attempt == 1 and exc.errcode in self.app.token_errors:
                    log.info("access token rejected (errcode %s): refreshing once", exc.errcode)
                    self.tokens.refresh(self._fetch_token, stale=token)
                    continue
                raise
        raise AssertionError("unreachable")

    def _send(self, method: str, url: str, params: dict[str, Any], data: bytes | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else None
        for attempt in range(1, self.attempts + 1):
            try:
                res = self.http.request(method, url, params=params, data=data, headers=headers,
                                        timeout=self.timeout)
                break
            except requests.ConnectionError as exc:  # not a read timeout: the request may not have arrived
                if attempt == self.attempts:
                    raise
                log.info("%s %s: %s; trying again", method, url, type(exc).__name__)
                time.sleep(RETRY_PAUSE * attempt)
        if res.status_code >= 400:
            raise PlatformError(None, res.reason or "", res.status_code)
        try:
            result = res.json()
        except ValueError:
            raise PlatformError(None, "answer is not JSON", res.status_code) from None
        if not isinstance(result, dict):
            raise PlatformError(None, "answer is not a JSON object", res.status_code)
        code = int(result.get("errcode") or 0)
        if code:
            raise PlatformError(code, str(result.get("errmsg", "")), res.status_code)
        return result


def wecom_client(runtime: Runtime) -> PlatformClient:
    """The client of the `[wecom]` self-built app."""
    cfg = runtime.config.wecom
    app = App(f"wecom:{cfg.corp_id}", cfg.secret, "/cgi-bin/gettoken",
              {"corpid": cfg.corp_id, "corpsecret": cfg.secret})
    return PlatformClient(runtime, app, cfg.api_base_url, cfg.timeout)


def wechat_client(runtime: Runtime) -> PlatformClient:
    """The client of the `[wechat]` Official Account (there 40001 means a stale token too)."""
    cfg = runtime.config.wechat
    app = App(f"wechat:{cfg.app_id}", cfg.app_secret, "/cgi-bin/token",
              {"grant_type": "client_credential", "appid": cfg.app_id, "secret": cfg.app_secret},
              frozenset({40001, 40014, 42001}))
    return PlatformClient(runtime, app, cfg.api_base_url, cfg.timeout)
