"""atheris fuzz target for the callback parsers (run by hand: `make fuzz`; not part of CI).

Feeds bytes to the WeCom callback (URL verification, raw bodies, and correctly signed and encrypted
envelopes around fuzzed plaintext, so the fuzzer reaches the XML parser behind the decryption) and to the
Official Account callback (plain mode). The documented rejection is `CallbackError` with a 4xx status; any
other exception, a non-4xx status, or an accepted message whose passive reply is not well-formed XML is a
finding (libFuzzer stops and writes the input to the artifact prefix).

    .venv/bin/python fuzz/fuzz_callback.py -max_total_time=60 -dict=fuzz/callback.dict -artifact_prefix=.fuzz/
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

import atheris  # type: ignore[import-not-found]  # installed by `make fuzz` only

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    import xmltodict
    from wechatpy.enterprise.crypto import WeChatCrypto

    from bot import clock, config
    from bot.channels.wechat import WechatCallback
    from bot.channels.wecom import CallbackError, WeComCallback, render_plain
    from bot.message import Reply

TOKEN = "fuzztoken123"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wwfuzzcorp0001"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)

CFG = config.from_dict({"wecom": {"corp_id": CORP_ID, "agent_id": 1, "token": TOKEN, "encoding_aes_key": AES_KEY},
                        "wechat": {"app_id": "wxfuzzapp0001", "token": TOKEN}}, {})
clock.configure("Asia/Shanghai", NOW)
STAMP = str(clock.timestamp())
WECOM = WeComCallback(CFG.wecom)
WECHAT = WechatCallback(CFG.wechat)
SEAL = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)


def check_reply(message) -> None:
    """An accepted message must get a passive reply that parses and goes back to its sender."""
    xml = render_plain(message, Reply(text="收到]]>" + message.text[:50]))
    parsed = xmltodict.parse(xml)["xml"]
    if (parsed.get("ToUserName") or "") != message.sender.strip():
        raise AssertionError(f"reply addressed to {parsed.get('ToUserName')!r}, not {message.sender!r}")


def wecom_raw(fdp: atheris.FuzzedDataProvider) -> None:
    signature = fdp.ConsumeUnicodeNoSurrogates(48)
    timestamp = STAMP if fdp.ConsumeBool() else fdp.ConsumeUnicodeNoSurrogates(12)
    check_reply(WECOM.parse(fdp.ConsumeBytes(fdp.remaining_bytes()), signature, timestamp, "nonce"))


def wecom_signed(fdp: atheris.FuzzedDataProvider) -> None:
    plain = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    envelope = xmltodict.parse(SEAL.encrypt_message(plain, "nonce", STAMP))["xml"]
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>".encode()
    check_reply(WECOM.parse(body, envelope["MsgSignature"], STAMP, "nonce"))


def wecom_fields(fdp: atheris.FuzzedDataProvider) -> None:
    """A plausible message whose field values (and wrapping: CDATA or bare) are fuzzed, signed and sealed."""
    names = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "EventKey",
             "AgentID")
    parts = []
    for name in names:
        if fdp.ConsumeProbability() < 0.2:
            continue
        value = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 64))
        parts.append(f"<{name}><![CDATA[{value}]]></{name}>" if fdp.ConsumeBool() else f"<{name}>{value}</{name}>")
    plain = "<xml>" + "".join(parts) + "</xml>"
    envelope = xmltodict.parse(SEAL.encrypt_message(plain, "nonce", STAMP))["xml"]
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>".encode()
    check_reply(WECOM.parse(body, envelope["MsgSignature"], STAMP, "nonce"))


def wecom_verify(fdp: atheris.FuzzedDataProvider) -> None:
    WECOM.verify_url(fdp.ConsumeUnicodeNoSurrogates(48), STAMP, "nonce", fdp.ConsumeUnicodeNoSurrogates(512))


def wechat_plain(fdp: atheris.FuzzedDataProvider) -> None:
    signature = hashlib.sha1("".join(sorted([TOKEN, STAMP, "nonce"])).encode()).hexdigest()
    message, _ = WECHAT.parse(fdp.ConsumeBytes(fdp.remaining_bytes()),
                              {"signature": signature, "timestamp": STAMP, "nonce": "nonce"})
    check_reply(message)


TARGETS = (wecom_raw, wecom_signed, wecom_fields, wecom_verify, wechat_plain)


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    target = TARGETS[fdp.ConsumeIntInRange(0, len(TARGETS) - 1)]
    try:
        target(fdp)
    except CallbackError as exc:  # the documented rejection: must be a 4xx
        if not 400 <= exc.status < 500:
            raise AssertionError(f"rejection with status {exc.status}") from exc


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
