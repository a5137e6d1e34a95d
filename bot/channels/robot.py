"""Group robot (群机器人) webhooks: one robot per branch code from `[robot.webhooks]`, push only.

At most `[robot] per_minute` messages in any 60 s per robot (bot.ratelimit: a sliding window in Redis when
configured, so every worker shares it; else, and while Redis is down, in this process). A message over the limit is
not dropped: it waits (stays queued with retry_at at the moment a slot frees). errcode 130101 (the
platform's own limit) is transient and backs off.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

import requests

from bot import clock, ratelimit
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
        self.limiter = ratelimit.RateLimiter(runtime, "robot", runtime.config.robot.per_minute, WINDOW)
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
                free_at = self.limiter.hit(hashlib.sha256(url.encode()).hexdigest()[:16]).retry_at
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
