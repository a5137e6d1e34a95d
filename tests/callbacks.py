"""Build signed, encrypted callbacks the way WeCom and the Official Account send them."""

from __future__ import annotations

import hashlib
import itertools
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import xmltodict
from wechatpy.crypto import WeChatCrypto as WechatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto

from bot import clock

TOKEN = "testtoken123"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wwtestcorp0001"
APP_ID = "wxtestapp0001"
_ids = itertools.count(7_000_000_000_000_000_000)

WECOM = {"corp_id": CORP_ID, "agent_id": 1000002, "secret": "s", "token": TOKEN, "encoding_aes_key": AES_KEY}
WECHAT = {"app_id": APP_ID, "app_secret": "s", "token": TOKEN, "encoding_aes_key": AES_KEY}


def text_xml(user: str, content: str, msg_id: int | None = None, create_time: int | None = None) -> str:
    msg_id = next(_ids) if msg_id is None else msg_id
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_time or clock.timestamp()}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{escape(content)}</Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>")


def event_xml(user: str, event: str, key: str = "", task_id: str = "", create_time: int | None = None) -> str:
    extra = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else ""
    extra += f"<TaskId><![CDATA[{task_id}]]></TaskId>" if task_id else ""
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_time or clock.timestamp()}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{extra}<AgentID>1000002</AgentID></xml>")


def sign_wecom(xml: str, corp_id: str = CORP_ID, timestamp: int | None = None,
               nonce: str = "nonce42") -> tuple[str, bytes]:
    """(query string, body) of an encrypted WeCom POST."""
    stamp = str(timestamp if timestamp is not None else clock.timestamp())
    crypto = WeChatCrypto(TOKEN, AES_KEY, corp_id)
    envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, stamp))["xml"]
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><AgentID>1000002</AgentID>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>").encode()
    query = urlencode({"msg_signature": envelope["MsgSignature"], "timestamp": stamp, "nonce": nonce})
    return query, body


def decrypt_reply(body: bytes) -> dict:
    data = xmltodict.parse(body)["xml"]
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    plain = crypto.decrypt_message(body, data["MsgSignature"], data["TimeStamp"], data["Nonce"])
    return xmltodict.parse(plain)["xml"]


def post_wecom(client, xml: str, **kw):
    query, body = sign_wecom(xml, **kw)
    return client.post(f"/wecom/callback?{query}", data=body, content_type="text/xml")


def say_wecom(client, user: str, content: str, **kw) -> str:
    """Send a text; return the decrypted reply text ("" for an empty answer)."""
    resp = post_wecom(client, text_xml(user, content), **kw)
    assert resp.status_code == 200, resp.data
    if not resp.data:
        return ""
    return decrypt_reply(resp.data).get("Content") or ""


def wechat_query(timestamp: int | None = None, nonce: str = "n1", extra: dict | None = None) -> str:
    stamp = str(timestamp if timestamp is not None else clock.timestamp())
    sig = hashlib.sha1("".join(sorted([TOKEN, stamp, nonce])).encode()).hexdigest()
    return urlencode({"signature": sig, "timestamp": stamp, "nonce": nonce, **(extra or {})})


def wechat_safe(xml: str, nonce: str = "n1") -> tuple[str, bytes]:
    stamp = str(clock.timestamp())
    crypto = WechatCrypto(TOKEN, AES_KEY, APP_ID)
    envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, stamp))["xml"]
    body = f"<xml><ToUserName>gh_x</ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    query = wechat_query(int(stamp), nonce, {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]})
    return query, body.encode()
