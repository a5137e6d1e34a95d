"""Official Account (公众号) callback transport, plain and safe (AES) mode. Same checks as WeCom:
signature, timestamp freshness, app id, size, every parse error → 4xx."""

from __future__ import annotations

from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from bot import clock
from bot.channels.wecom import MAX_BODY, CallbackError, check_fresh, parse_with, render_plain
from bot.message import InboundMessage, Reply


class WechatCallback:
    def __init__(self, config: Any) -> None:  # config: WechatConfig
        self.config = config
        self.crypto = (
            WeChatCrypto(config.token, config.encoding_aes_key, config.app_id)
            if config.encoding_aes_key else None
        )

    def check(self, signature: str, timestamp: str, nonce: str) -> None:
        check_fresh(timestamp)
        try:
            check_signature(self.config.token, signature, timestamp, nonce)
        except InvalidSignatureException as exc:
            raise CallbackError(403, "bad signature") from exc

    def parse(self, body: bytes, args: dict[str, str]) -> tuple[InboundMessage, bool]:
        """Returns the message and whether the reply must be encrypted (safe mode)."""
        if len(body) > MAX_BODY:
            raise CallbackError(413, "body too large")
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        self.check(args.get("signature", ""), timestamp, nonce)
        encrypted = args.get("encrypt_type", "raw") == "aes"
        if encrypted and self.crypto is None:
            raise CallbackError(400, "safe mode needs [wechat] encoding_aes_key")

        def read() -> str:
            if encrypted:
                assert self.crypto is not None  # checked above
                return self.crypto.decrypt_message(body, args.get("msg_signature", ""), timestamp, nonce)
            return body.decode("utf-8")

        return parse_with("wechat", parse_message, read), encrypted

    def render(self, inbound: InboundMessage, reply: Reply, encrypted: bool, nonce: str) -> str:
        xml = render_plain(inbound, Reply(text=reply.text))
        if encrypted and self.crypto is not None:
            return self.crypto.encrypt_message(xml, nonce, str(clock.timestamp()))
        return xml
