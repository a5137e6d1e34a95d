"""WeCom self-built app API: wechatpy's enterprise client, wrapped so that it is safe in production.

- every call, `gettoken` included, goes to `[wecom] api_base_url` (wechatpy hard-codes the real host);
- every request has a timeout (`[wecom] timeout`);
- a token error (40014 invalid, 42001 expired) refreshes the token once and retries once, no more
  (wechatpy's own retry recurses without bound, so it is switched off);
- the access token is shared by every process: the `key_value` table, and Redis (`[redis] prefix` + key,
  TTL = expires_in minus a margin) while it answers; refreshed under a lock so N workers fetch one token.

`HostedClientMixin` and `TokenCache` are reused by the Official Account client (`wechat_api`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from redis import RedisError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select
from wechatpy.enterprise import WeChatClient as EnterpriseClient
from wechatpy.exceptions import WeChatClientException

from bot import clock
from bot.channels.senders import (
    SEND_EXCEPTIONS,
    ConfigurationError,
    SendError,
    SendResult,
    check_answer,
    classify,
)
from bot.models import KeyValue

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

REAL_HOSTS = ("https://qyapi.weixin.qq.com", "https://api.weixin.qq.com")
# "taskid has existed or empty or exceed max len" (WeCom global error code 42014). The outbox only sends
# non-empty task_ids of at most 128 bytes, so for us it means: this batch's card was sent already.
TASK_ID_EXISTS = frozenset({42014})
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(name: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(name, threading.Lock())


def token_ttl(expires_in: int) -> int:
    """How long a fetched token is kept: its lifetime minus 5 minutes (half of a short lifetime)."""
    margin = 300 if expires_in > 600 else expires_in // 2
    return max(1, int(expires_in) - margin)


class TokenCache:
    """The access token of one (app, secret), shared by every process. It is written to the `key_value`
    table and, when Redis answers, to Redis too (TTL = expires_in minus a margin); it is read from Redis
    first, else from the table, so a Redis outage costs no send and no extra `gettoken`. `refresh()` runs
    the fetch under a lock (redis-py `lock()` while Redis answers; else a process lock plus the row itself:
    BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL) and skips it when another holder of
    the lock already stored a token different from the stale one."""

    def __init__(self, runtime: Runtime, app: str, secret: str, wait_seconds: float) -> None:
        self.runtime = runtime
        digest = hashlib.sha256(secret.encode()).hexdigest()[:16]  # never the secret itself
        self.name = f"token:{app}:{digest}"  # the key_value row
        self.key = runtime.config.redis.prefix + self.name  # the Redis key
        self.wait_seconds = wait_seconds

    def get(self) -> str | None:
        redis = self.runtime.live_redis()
        if redis is not None:
            try:
                value = redis.get(self.key)
            except RedisError as exc:
                self.runtime.redis_failed("token cache", exc)
            else:
                if value:
                    return value.decode() if isinstance(value, bytes) else value
        return self._db_get()

    def refresh(self, fetch: Callable[[], tuple[str, int]], stale: str | None) -> str:
        """A fresh token: `fetch()` -> (token, expires_in) unless someone replaced `stale` meanwhile."""
        redis = self.runtime.live_redis()
        if redis is not None:
            try:
                with redis.lock(self.key + ":lock", timeout=self.wait_seconds + 30,
                                blocking_timeout=self.wait_seconds + 5):
                    current = self.get()
                    if current and current != stale:
                        return current
                    fetched = fetch()
                    token = self._db_refresh(lambda: fetched, stale)  # the copy a Redis outage reads
                    redis.set(self.key, token, ex=token_ttl(fetched[1]))
                    return token
            except RedisError as exc:  # LockError included; a token fetched above is in the table already
                self.runtime.redis_failed("token refresh", exc)
        return self._db_refresh(fetch, stale)

    def _db_get(self) -> str | None:
        with self.runtime.session() as session:
            row = session.get(KeyValue, self.name)
            if row is not None and row.value and row.expires > clock.wall():
                return row.value
        return None

    def _db_refresh(self, fetch: Callable[[], tuple[str, int]], stale: str | None) -> str:
        with _process_lock(self.name), self.runtime.write() as session:
            row: KeyValue | None
            if self.runtime.is_postgres:
                session.exec(pg_insert(KeyValue).values(key=self.name, value="", expires=0.0)
                             .on_conflict_do_nothing(index_elements=["key"]))
                row = session.exec(select(KeyValue).where(KeyValue.key == self.name).with_for_update()).one()
            else:
                row = session.get(KeyValue, self.name)
            if row is not None and row.value and row.value != stale and row.expires > clock.wall():
                return row.value
            token, expires_in = fetch()
            if row is None:
                row = KeyValue(key=self.name, value=token)
            row.value, row.expires = token, clock.wall() + token_ttl(expires_in)
            session.add(row)
            return token


class HostedClientMixin:
    """For a wechatpy client: configured host for every URL, timeout, shared token, one bounded retry.

    The concrete class sets TOKEN_PATH, TOKEN_ERRORS and `_token_params()`, and calls `_setup()`."""

    TOKEN_PATH = ""
    TOKEN_ERRORS: frozenset[int] = frozenset()
    _http: requests.Session
    timeout: float

    def _setup(self, base_url: str, tokens: TokenCache) -> None:
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = self.base_url + "/cgi-bin/"
        self.tokens = tokens

    def _token_params(self) -> dict[str, str]:
        raise NotImplementedError

    def _rebase(self, url: str) -> str:
        for host in REAL_HOSTS:
            if url.startswith(host):
                return self.base_url + url[len(host):]
        return url

    def _fetch_token(self) -> tuple[str, int]:
        """GET the token endpoint on the configured host, with the timeout; (token, expires_in)."""
        res = self._http.get(self.base_url + self.TOKEN_PATH, params=self._token_params(), timeout=self.timeout)
        try:
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, None, client=self, request=exc.request, response=res) from exc
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self,
                                        request=res.request, response=res)
        log.info("fetched a new access token from %s", self.base_url + self.TOKEN_PATH)
        return result["access_token"], int(result.get("expires_in", 7200))

    @property
    def access_token(self) -> str:
        return self.tokens.get() or self.tokens.refresh(self._fetch_token, stale=None)

    def fetch_access_token(self) -> dict[str, Any]:
        """Force a new token (wechatpy's name for it), shared with every other process."""
        token = self.tokens.refresh(self._fetch_token, stale=self.tokens.get())
        return {"access_token": token}

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        url = self._rebase(url_or_endpoint)
        if "api_base_url" in kwargs:
            kwargs["api_base_url"] = self._rebase(kwargs["api_base_url"])
        kwargs.setdefault("timeout", self.timeout)
        for attempt in (1, 2):
            params = dict(kwargs.get("params") or {})
            token = self.access_token
            params["access_token"] = token
            try:
                return super()._request(method, url, **{**kwargs, "params": params})  # type: ignore[misc]
            except WeChatClientException as exc:
                if attempt == 1 and exc.errcode is not None and int(exc.errcode) in self.TOKEN_ERRORS:
                    log.info("access token rejected (errcode %s): refreshing once", exc.errcode)
                    self.tokens.refresh(self._fetch_token, stale=token)
                    continue
                raise
        raise AssertionError("unreachable")


class WecomApi(HostedClientMixin, EnterpriseClient):
    """wechatpy's enterprise WeChatClient for `[wecom]`; `send()` is the one call the outbox makes."""

    TOKEN_PATH = "/cgi-bin/gettoken"
    TOKEN_ERRORS = frozenset({40014, 42001})

    def __init__(self, runtime: Runtime) -> None:
        cfg = runtime.config.wecom
        super().__init__(cfg.corp_id, cfg.secret, timeout=cfg.timeout, auto_retry=False)
        self._setup(cfg.api_base_url, TokenCache(runtime, f"wecom:{cfg.corp_id}", cfg.secret, cfg.timeout))
        self.agent_id = cfg.agent_id
        self.duplicate_check_interval = runtime.config.delivery.duplicate_check_interval

    def _token_params(self) -> dict[str, str]:
        return {"corpid": self.corp_id, "corpsecret": self.secret}

    def send(self, kind: str, payload: dict[str, Any], userids: list[str]) -> dict[str, Any]:
        """POST message/send to up to 1000 userids with the platform's duplicate check on."""
        msg = {"msgtype": kind, kind: payload, "enable_duplicate_check": 1,
               "duplicate_check_interval": self.duplicate_check_interval}
        return self.message.send(self.agent_id, list(userids), msg=msg)


def _ids(value: Any) -> set[str]:
    if not value:
        return set()
    if isinstance(value, list | tuple):
        return {str(v) for v in value}
    return {v for v in str(value).split("|") if v}


class WecomSender:
    """The outbox's WeCom sender: one message/send per batch, invaliduser/unlicenseduser failed alone; a
    template card refused with "task id exists" (42014) was delivered by an earlier send of its batch."""

    def __init__(self, runtime: Runtime) -> None:
        self.api = WecomApi(runtime)
        self.batch_size = runtime.config.delivery.batch_size

    def close(self) -> None:
        self.api._http.close()

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult:
        try:
            answer = check_answer(self.api.send(kind, payload, recipients))
        except (SendError, *SEND_EXCEPTIONS) as exc:
            error = classify(exc)
            if kind == "template_card" and error.code in TASK_ID_EXISTS:
                # this batch's card went out before (a resend after a crash or a lost answer): done
                log.info("template card task_id %s was already sent: %d recipients counted as sent",
                         payload.get("task_id"), len(recipients))
                return SendResult(sent=list(recipients))
            raise error from exc
        invalid = _ids(answer.get("invaliduser"))
        unlicensed = _ids(answer.get("unlicenseduser"))
        result = SendResult()
        for userid in recipients:
            if userid in invalid:
                result.failed[userid] = "invaliduser"
            elif userid in unlicensed:
                result.failed[userid] = "unlicenseduser"
            else:
                result.sent.append(userid)
        if not result.sent and result.failed:
            raise ConfigurationError("all recipients invalid", 81013)
        return result
