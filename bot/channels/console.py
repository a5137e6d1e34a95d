"""The console sender: prints every delivery on stdout and counts it as sent.

It stands in for WeCom (and the Official Account) when `[wecom] corp_id` (`[wechat] app_id`) is empty,
so `make run` and `dangjian say` show what a member would receive.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from bot.channels.senders import SendResult

_print_lock = threading.Lock()


def readable(kind: str, payload: dict[str, Any]) -> str:
    """The text a person would read in a message of this kind."""
    if kind in ("text", "markdown"):
        return str(payload.get("content", ""))
    if kind == "textcard":
        parts = [payload.get("title", ""), payload.get("description", ""), payload.get("url", "")]
        return "\n".join(str(p) for p in parts if p)
    if kind == "template_card":
        main = payload.get("main_title") or {}
        action = payload.get("card_action") or {}
        buttons = [b.get("text", "") for b in payload.get("button_list") or [] if isinstance(b, dict)]
        parts = [main.get("title", ""), main.get("desc", ""), payload.get("sub_title_text", ""),
                 action.get("url", ""), " ".join(f"[{b}]" for b in buttons if b)]
        return "\n".join(str(p) for p in parts if p)
    return str(payload)


class ConsoleSender:
    """Prints `[channel → recipient] kind` and the readable text, once per recipient."""

    batch_size = 1000

    def __init__(self, channel: str = "console") -> None:
        self.channel = channel

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult:
        text = readable(kind, payload)
        with _print_lock:
            for recipient in recipients:
                print(f"[{self.channel} → {recipient}] {kind}\n{text}", flush=True)  # noqa: T201
        sys.stdout.flush()
        return SendResult(sent=list(recipients))
