"""The Sender protocol every outbound channel implements, its result and error types, and the factory.

A sender takes one message body (`kind`, `payload`) and a batch of recipients and reports, per recipient,
what happened (`SendResult`); a failure of the whole call raises a `SendError` that says whether it is
worth retrying (`TransientError`) or a configuration problem an admin must fix (`ConfigurationError`).
`classify()` turns what our platform client (`PlatformError`), requests and redis raise into one of those two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import redis
import requests

from bot.channels.platform import PlatformError

if TYPE_CHECKING:
    from bot.runtime import Runtime

CHANNELS = ("wecom", "wechat", "robot", "console")

# -1 system busy, 45009 API frequency limit, 45033 too many concurrent calls, 130101 robot rate limit;
# 40014/42001 (token invalid/expired) only reach here when the one refresh-and-retry did not help.
TRANSIENT_CODES = frozenset({-1, 45009, 45033, 130101, 40014, 42001})


class SendError(Exception):
    """A whole send call failed; `code` is the platform errcode (None for HTTP/network problems)."""

    transient = False
    attempted = True  # the platform may have been called: counts against the delivery's attempts

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientError(SendError):
    """Busy, rate-limited, 5xx, timeout, connection refused: retry later with backoff."""

    transient = True


class NotAttempted(TransientError):
    """Our own optional backend (Redis) failed before the platform was called: the rows wait a little and
    go again without an attempt counted (every Redis use has a database or in-process fallback, so this
    is a last guard)."""

    attempted = False
    delay = 5.0  # wall seconds before the rows are due again


class ConfigurationError(SendError):
    """Bad secret, API not authorised, IP not trusted, unknown robot...: never retried, admins alerted."""


@dataclass
class SendResult:
    """What happened to each recipient of one send call.

    `sent`: delivered. `failed`: recipient -> reason, permanent for that recipient only (invalid user,
    outside the 48 h window). `retry`: recipient -> reason, transient, retried with backoff.
    `wait`: recipient -> wall seconds before which it must not be tried (rate limit, not an attempt).
    `config_error`: set when some `failed` entries are due to configuration: the admins are alerted.
    """

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    retry: dict[str, str] = field(default_factory=dict)
    wait: dict[str, float] = field(default_factory=dict)
    config_error: str | None = None


class Sender(Protocol):
    """One outbound transport. `batch_size` caps the recipients handed to one `send` call."""

    batch_size: int

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult: ...


# What a channel call may raise for reasons outside our code; `classify` maps each to a SendError.
SEND_EXCEPTIONS = (PlatformError, requests.RequestException, redis.RedisError,
                   ConnectionError, TimeoutError)


def classify(exc: Exception) -> SendError:
    """Map an exception from the platform client/requests/redis to a TransientError or a ConfigurationError."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, PlatformError):
        if exc.errcode is None:  # an HTTP error status, or a body that is not a JSON object
            status = exc.status
            if status is None or status >= 500 or status == 429 or status < 400:
                return TransientError(f"HTTP {status}")
            return ConfigurationError(f"HTTP {status} (check api_base_url)")
        code = int(exc.errcode)
        message = f"errcode {code}: {exc.errmsg}"
        return TransientError(message, code) if code in TRANSIENT_CODES else ConfigurationError(message, code)
    if isinstance(exc, requests.Timeout):
        return TransientError(f"timeout: {exc}")
    if isinstance(exc, redis.RedisError):
        return NotAttempted(f"Redis: {type(exc).__name__}: {exc}")
    if isinstance(exc, requests.RequestException | ConnectionError | TimeoutError):
        return TransientError(f"{type(exc).__name__}: {exc}")
    raise TypeError(f"unclassified send error {exc!r}") from exc


def check_answer(result: Any) -> dict[str, Any]:
    """A platform answer must be a JSON object with errcode 0; anything else raises a SendError."""
    if not isinstance(result, dict):
        raise TransientError(f"answer is not JSON: {str(result)[:100]}")
    code = int(result.get("errcode", 0) or 0)
    if code:
        message = f"errcode {code}: {result.get('errmsg', '')}"
        raise TransientError(message, code) if code in TRANSIENT_CODES else ConfigurationError(message, code)
    return result


def sender_for(runtime: Runtime, channel: str) -> Sender:
    """The sender for a channel, built once per runtime. A channel that is not configured at all
    ([wecom] corp_id, [wechat] app_id empty, no [robot.webhooks]) goes to the console sender."""
    cache: dict[str, Sender] = runtime.extras.setdefault("senders", {})
    if channel in cache:
        return cache[channel]
    from bot.channels import console, robot, wechat_api, wecom_api

    cfg = runtime.config
    sender: Sender
    if channel == "wecom" and cfg.wecom.enabled:
        sender = wecom_api.WecomSender(runtime)
    elif channel == "wechat" and cfg.wechat.enabled:
        sender = wechat_api.WechatSender(runtime)
    elif channel == "robot" and cfg.robot.webhooks:
        sender = robot.RobotSender(runtime)
    elif channel in CHANNELS:
        sender = console.ConsoleSender(channel)
    else:
        raise ValueError(f"unknown channel {channel!r}")
    cache[channel] = sender
    return sender
