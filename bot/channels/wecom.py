"""WeCom callback transport: signature, freshness and corp id checks, decryption, parsing into an
InboundMessage, and encrypted passive replies. wechatpy does the crypto and parsing; we add what it lacks
(timestamp freshness, catching every parse error, escaping, our clock in replies, update_button)."""

from __future__ import annotations

import binascii
import struct
from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape

from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

from bot import clock
from bot.message import InboundMessage, Reply, normalise

MAX_BODY = 64 * 1024
MAX_SKEW = 300  # seconds between the callback's timestamp and our clock
MAX_MSG_TYPE = 32  # InboundMessage.msg_type

PARSE_ERRORS = (KeyError, ExpatError, ValueError, IndexError, TypeError, AttributeError,
                struct.error, binascii.Error, UnicodeDecodeError)


class CallbackError(Exception):
    """A callback we refuse: `status` is the 4xx to answer, `reason` the plain words the caller gets (never
    an exception class or message: those go to the log through `__cause__`)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_fresh(timestamp: str) -> None:
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError) as exc:
        raise CallbackError(400, "bad timestamp") from exc
    if abs(clock.timestamp() - stamp) > MAX_SKEW:
        raise CallbackError(403, "stale timestamp")


def cdata_safe(text: str) -> str:
    """wechatpy wraps text in CDATA without escaping `]]>`: split it so the XML stays well-formed."""
    return text.replace("]]>", "]]]]><![CDATA[>")


class WeComCallback:
    def __init__(self, config: Any) -> None:  # config: WecomConfig
        self.config = config
        self.crypto = WeChatCrypto(config.token, config.encoding_aes_key, config.corp_id)

    def verify_url(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        check_fresh(timestamp)
        try:
            return self.crypto.check_signature(signature, timestamp, nonce, echostr)
        except InvalidSignatureException as exc:
            raise CallbackError(403, "bad signature") from exc
        except InvalidCorpIdException as exc:
            raise CallbackError(403, "wrong corp id") from exc
        except PARSE_ERRORS as exc:
            raise CallbackError(400, "bad echostr") from exc

    def parse(self, body: bytes, signature: str, timestamp: str, nonce: str) -> InboundMessage:
        if len(body) > MAX_BODY:
            raise CallbackError(413, "body too large")
        check_fresh(timestamp)
        decrypt = self.crypto.decrypt_message
        return parse_with("wecom", parse_message, lambda: decrypt(body, signature, timestamp, nonce))

    def render(self, inbound: InboundMessage, reply: Reply, nonce: str) -> str:
        xml = render_plain(inbound, reply)
        return self.crypto.encrypt_message(xml, nonce, str(clock.timestamp()))


def parse_with(channel: str, parser: Callable[[str], Any], read: Callable[[], str]) -> InboundMessage:
    """`read()` (decrypt or decode) then wechatpy's `parser`; every failure becomes a 4xx, never a 500."""
    try:
        msg = parser(read())
    except InvalidSignatureException as exc:
        raise CallbackError(403, "bad signature") from exc
    except (InvalidCorpIdException, InvalidAppIdException) as exc:
        raise CallbackError(403, "wrong corp id or app id") from exc
    except PARSE_ERRORS as exc:
        raise CallbackError(400, "malformed body") from exc
    if msg is None:
        raise CallbackError(400, "empty message")
    return to_inbound(channel, msg)


def to_inbound(channel: str, msg: Any) -> InboundMessage:
    """wechatpy message object → InboundMessage; raw fields read from `_data` where wechatpy has no
    class (template_card_event parses as UnknownMessage)."""
    data: dict[str, Any] = dict(getattr(msg, "_data", {}) or {})
    msg_type = str(data.get("MsgType", "")).lower()
    if not msg_type or not data.get("FromUserName"):
        raise CallbackError(400, "missing MsgType or FromUserName")
    if len(msg_type) > MAX_MSG_TYPE:  # no platform type is that long; the log column holds 32
        raise CallbackError(400, "bad MsgType")
    try:
        create_time = int(data.get("CreateTime") or 0)
    except (TypeError, ValueError) as exc:
        raise CallbackError(400, "bad CreateTime") from exc
    content = str(data.get("Content") or "")
    recognition = str(data.get("Recognition") or "").strip().rstrip("。！!，,.").strip()  # speech adds a 。
    if msg_type == "voice" and recognition:  # an Official Account voice message the platform transcribed
        msg_type, content = "text", recognition
    return InboundMessage(
        channel=channel,
        sender=str(data["FromUserName"]),
        receiver=str(data.get("ToUserName", "")),
        msg_type=msg_type,
        text=normalise(content) if msg_type == "text" else "",
        sent=content.strip() if msg_type == "text" else "",
        event=str(data.get("Event") or "").lower(),
        event_key=str(data.get("EventKey") or ""),
        task_id=str(data.get("TaskId") or ""),
        msg_id=str(data.get("MsgId") or ""),
        create_time=create_time,
        agent_id=str(data.get("AgentID") or ""),
        raw=data,
    )


def render_plain(inbound: InboundMessage, reply: Reply) -> str:
    """The passive reply XML (not yet encrypted), stamped with our clock."""
    now = clock.timestamp()
    if reply.button is not None:
        # wechatpy has no class for update_button: build it, escaped.
        return (
            "<xml>"
            f"<ToUserName>{escape(inbound.sender)}</ToUserName>"
            f"<FromUserName>{escape(inbound.receiver)}</FromUserName>"
            f"<CreateTime>{now}</CreateTime>"
            "<MsgType>update_button</MsgType>"
            f"<Button><ReplaceName>{escape(reply.button)}</ReplaceName></Button>"
            "</xml>"
        )
    return TextReply(
        source=cdata_safe(inbound.receiver),
        target=cdata_safe(inbound.sender),
        content=cdata_safe(reply.text),
        time=now,
    ).render()
