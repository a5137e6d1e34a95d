"""Official Account (公众号) customer-service messages: wechatpy's WeChatClient with the same safety as
WeCom (every call, /cgi-bin/token included, to `[wechat] api_base_url`; timeout; one bounded token
refresh; token shared through Redis or the key_value table).

Customer-service messages reach a follower only within 48 h of their last interaction: 45015/45047 fail
that recipient alone; it is not a configuration error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from wechatpy import WeChatClient

from bot import clock
from bot.channels.senders import (
    SEND_EXCEPTIONS,
    NotAttempted,
    SendError,
    SendResult,
    check_answer,
    classify,
)
from bot.channels.wecom_api import HostedClientMixin, TokenCache

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Per-recipient permanent failures: outside the 48 h window, not a follower / bad openid.
RECIPIENT_CODES = frozenset({45015, 45047, 43004, 40003})


class WechatApi(HostedClientMixin, WeChatClient):
    """wechatpy's Official Account client for `[wechat]`."""

    TOKEN_PATH = "/cgi-bin/token"
    TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # on an Official Account 40001 means a stale token

    def __init__(self, runtime: Runtime) -> None:
        cfg = runtime.config.wechat
        super().__init__(cfg.app_id, cfg.app_secret, timeout=cfg.timeout, auto_retry=False)
        self._setup(cfg.api_base_url, TokenCache(runtime, f"wechat:{cfg.app_id}", cfg.app_secret, cfg.timeout))

    def _token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}

    def send(self, kind: str, payload: dict[str, Any], openid: str) -> Any:
        """One customer-service message; WeCom kinds are mapped to what an Official Account can show."""
        if kind in ("text", "markdown"):
            return self.message.send_text(openid, payload["content"])
        article = as_article(kind, payload)
        return self.message.send_articles(openid, [article])


def as_article(kind: str, payload: dict[str, Any]) -> dict[str, str]:
    """A textcard or template_card as one news article (title, description, url)."""
    if kind == "textcard":
        return {"title": payload.get("title", ""), "description": payload.get("description", ""),
                "url": payload.get("url", ""), "image": ""}
    if kind == "template_card":
        main = payload.get("main_title") or {}
        action = payload.get("card_action") or {}
        return {"title": main.get("title", ""),
                "description": main.get("desc") or payload.get("sub_title_text", ""),
                "url": action.get("url", ""), "image": ""}
    raise ValueError(f"kind {kind!r} cannot be sent to an Official Account")


class WechatSender:
    """The outbox's Official Account sender: one call per openid."""

    batch_size = 50  # one HTTP call each: keep a batch well inside the worker's lease

    def __init__(self, runtime: Runtime) -> None:
        self.api = WechatApi(runtime)

    def close(self) -> None:
        self.api._http.close()

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult:
        result = SendResult()
        for index, openid in enumerate(recipients):
            try:
                check_answer(self.api.send(kind, payload, openid))
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
