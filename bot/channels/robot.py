"""Group robot (群机器人) webhooks: one robot per branch code from `[robot.webhooks]`, push only.

At most `[robot] per_minute` messages in any 60 s per robot (a sliding window in Redis when configured,
so every worker shares it; else, and while Redis is down, in this process). A message over the limit is
not dropped: it waits (stays queued with retry_at at the moment a slot frees). errcode 130101 (the
platform's own limit) is transient and backs off.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

import redis
import requests

from bot import clock
from bot.channels.senders import (
    SEND_EXCEPTIONS,
    ConfigurationError,
    NotAttempted,
    SendError,
    SendResult,
    TransientError,
    check_answer,
    classify,
)

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

WINDOW = 60.0

# KEYS[1] window key; ARGV: now, window, limit, member. Returns "ok" or the time a slot frees.
_SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
  return 'ok'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + tonumber(ARGV[2]))
"""


class RateLimiter:
    """At most `limit` acquisitions per robot in any WINDOW seconds of wall time."""

    def __init__(self, runtime: Runtime, limit: int) -> None:
        self.limit = limit
        self.runtime = runtime
        self.prefix = runtime.config.redis.prefix + "robot:"
        self._script = runtime.redis.register_script(_SLIDING_WINDOW) if runtime.redis is not None else None
        self._local: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def acquire(self, robot: str) -> float | None:
        """None when a send may go now (and is counted), else the wall time a slot frees."""
        now = clock.wall()
        if self._script is not None and self.runtime.live_redis() is not None:
            try:
                answer = self._script(keys=[self.prefix + robot], args=[now, WINDOW, self.limit, uuid.uuid4().hex])
            except redis.RedisError as exc:  # counted in this process until Redis answers again
                self.runtime.redis_failed("robot rate limit", exc)
            else:
                answer = answer.decode() if isinstance(answer, bytes) else str(answer)
                return None if answer == "ok" else float(answer)
        with self._lock:
            sent = self._local[robot]
            while sent and sent[0] <= now - WINDOW:
                sent.popleft()
            if len(sent) < self.limit:
                sent.append(now)
                return None
            return sent[0] + WINDOW


def robot_body(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The webhook JSON for a message kind (a textcard becomes a one-article news message)."""
    if kind == "textcard":
        article = {k: payload.get(k, "") for k in ("title", "description", "url")}
        return {"msgtype": "news", "news": {"articles": [article]}}
    return {"msgtype": kind, kind: payload}


class RobotSender:
    """Posts to each recipient branch's robot; a missing webhook fails that row as a configuration error."""

    batch_size = 20

    def __init__(self, runtime: Runtime) -> None:
        self.webhooks = runtime.config.robot.webhooks
        self.timeout = runtime.config.wecom.timeout
        self.limiter = RateLimiter(runtime, runtime.config.robot.per_minute)
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult:
        result = SendResult()
        body = robot_body(kind, payload)
        for code in recipients:
            url = self.webhooks.get(code)
            if not url:
                result.failed[code] = f"no [robot.webhooks] entry for branch {code!r}"
                result.config_error = result.failed[code]
                continue
            try:
                free_at = self.limiter.acquire(hashlib.sha256(url.encode()).hexdigest()[:16])
                if free_at is not None:
                    log.info("robot of %s at its per-minute limit: waits %.1f s", code, free_at - clock.wall())
                    result.wait[code] = free_at
                    continue
                self._post(url, body)
            except (SendError, *SEND_EXCEPTIONS) as exc:
                error = classify(exc)
                if not error.attempted:
                    result.wait[code] = clock.wall() + NotAttempted.delay
                elif error.transient:
                    result.retry[code] = str(error)
                else:
                    result.failed[code] = result.config_error = str(error)
            else:
                result.sent.append(code)
        return result

    def _post(self, url: str, body: dict[str, Any]) -> None:
        """POST one webhook message; raises a SendError unless the robot answered errcode 0."""
        try:
            response = self.http.post(url, json=body, timeout=self.timeout)
        except SEND_EXCEPTIONS as exc:
            raise classify(exc) from exc
        status = response.status_code
        if status >= 500 or status == 429:
            raise TransientError(f"HTTP {status}")
        if status >= 400:
            raise ConfigurationError(f"HTTP {status} (check the webhook URL)")
        try:
            answer = response.json()
        except ValueError as exc:
            raise TransientError(f"answer is not JSON: {exc}") from exc
        check_answer(answer)
