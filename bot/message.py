"""The transport-neutral event and reply: the only thing handlers see of WeCom, WeChat or the console."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT_BYTES = 2048  # WeCom's limit for text and markdown content, UTF-8 bytes

_SPACES = re.compile(r"\s+")
SEPARATORS = " \t\r\n\u3000：:，,"  # between a command word and its argument (CONTRACT "Chat input")


def normalise(text: str) -> str:
    """NFKC (full-width digits, ＃, spaces), trimmed, inner runs of white space folded to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()


def after_word(sent: str, word: str) -> str:
    """The argument of `sent` as sent (no NFKC) after its command `word` (matched on the normalised form) and
    the separators that follow it: 「答：汉书」 → 「汉书」. `sent` itself when it does not start with `word`."""
    sent = (sent or "").strip()
    for end in range(1, len(sent) + 1):
        head = normalise(sent[:end])
        if head == word:
            return sent[end:].lstrip(SEPARATORS).strip()
        if not word.startswith(head):
            break
    return sent


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # wecom / wechat / console
    sender: str  # WeCom userid, Official Account openid, or console userid
    msg_type: str  # text / event / image / voice / ...
    text: str = ""  # normalised text of a text message: for matching only
    sent: str = ""  # the text as sent (trimmed): what handlers store; "" when built without it (tests)
    event: str = ""  # lower-case event name for msg_type == "event"
    event_key: str = ""
    task_id: str = ""
    msg_id: str = ""
    create_time: int = 0
    agent_id: str = ""
    receiver: str = ""  # ToUserName: corp id or the account's original id
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    def dedup_key(self) -> str:
        """`MsgId` for messages; FromUserName+CreateTime+Event+EventKey(+TaskId)+AgentID for events."""
        if self.msg_id:
            return f"{self.channel}:msg:{self.msg_id}"
        parts = [self.sender, str(self.create_time), self.event, self.event_key, self.task_id, self.agent_id]
        return f"{self.channel}:evt:" + "|".join(parts)


@dataclass(frozen=True)
class Reply:
    """What a handler answers: text, and for a template card button, the button's new label."""

    text: str = ""
    button: str | None = None  # update_button: the card's button becomes this (e.g. "已完成")
    sealed: bool = field(default=False, compare=False)  # about an anonymous report (Context.sealed); not stored

    @property
    def empty(self) -> bool:
        return not self.text and self.button is None

    def dumps(self) -> str:
        return json.dumps({"text": self.text, "button": self.button}, ensure_ascii=False)

    @classmethod
    def loads(cls, data: str | None) -> Reply:
        if not data:
            return cls()
        obj = json.loads(data)
        return cls(text=obj.get("text", ""), button=obj.get("button"))
