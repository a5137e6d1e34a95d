"""Official Account (公众号) customer-service messages through our platform client
(`bot.channels.platform`: `[wechat] api_base_url`, timeout, shared token, one bounded token refresh).

Customer-service messages reach a follower only within 48 h of their last interaction: 45015/45047 fail
that recipient alone; it is not a configuration error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot import clock
from bot.channels.platform import PlatformClient, wechat_client
from bot.channels.senders import (
    SEND_EXCEPTIONS,
    NotAttempted,
    SendError,
    SendResult,
    classify,
)

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Per-recipient permanent failures: outside the 48 h window, not a follower / bad openid.
RECIPIENT_CODES = frozenset({45015, 45047, 43004, 40003})


def send_custom(client: PlatformClient, kind: str, payload: dict[str, Any], openid: str) -> dict[str, Any]:
    """One customer-service message; WeCom kinds are mapped to what an Official Account can show."""
    if kind in ("text", "markdown"):
        return client.post("message/custom/send",
                           {"touser": openid, "msgtype": "text", "text": {"content": payload["content"]}})
    article = as_article(kind, payload)
    return client.post("message/custom/send", {"touser": openid, "msgtype": "news", "news": {"articles": [article]}})


def as_article(kind: str, payload: dict[str, Any]) -> dict[str, str]:
    """A textcard or template_card as one news article (title, description, url)."""
    if kind == "textcard":
        return {"title": payload.get("title", ""), "description": payload.get("description", ""),
                "url": payload.get("url", ""), "picurl": ""}
    if kind == "template_card":
        main = payload.get("main_title") or {}
        action = payload.get("card_action") or {}
        return {"title": main.get("title", ""),
                "description": main.get("desc") or payload.get("sub_title_text", ""),
                "url": action.get("url", ""), "picurl": ""}
    raise ValueError(f"kind {kind!r} cannot be sent to an Official Account")


class WechatSender:
    """The outbox's Official Account sender: one call per openid."""

    batch_size = 50  # one HTTP call each: keep a batch well inside the worker's lease

    def __init__(self, runtime: Runtime) -> None:
        self.client = wechat_client(runtime)

    def close(self) -> None:
        self.client.close()

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult:
        result = SendResult()
        for index, openid in enumerate(recipients):
            try:
                send_custom(self.client, kind, payload, openid)
            except (SendError, *SEND_EXCEPTIONS) as exc:
                error = classify(exc)
            else:
                result.sent.append(openid)
                continue
            if error.code in RECIPIENT_CODES:
                result.failed[openid] = str(error)
                continue
            rest = recipients[index:]
            if not error.attempted:
                result.wait.update(dict.fromkeys(rest, clock.wall() + NotAttempted.delay))
            elif error.transient:
                result.retry.update(dict.fromkeys(rest, str(error)))
            else:
                result.failed.update(dict.fromkeys(rest, str(error)))
                result.config_error = str(error)
            log.warning("official account send stopped at recipient %d of %d: %s", index + 1, len(recipients), error)
            break
        return result
