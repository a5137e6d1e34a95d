"""Property tests for the callback edge (WeCom, Official Account plain and safe mode) on SQLite and PostgreSQL.

Whatever arrives, the answer is 2xx or 4xx, never 5xx. A well-formed, correctly signed and encrypted message
with any field values (Unicode, `]]>`, 60 KiB fields) gets 200 and a reply that parses and is addressed back
to its sender; anything refused (bad signature, stale timestamp, foreign corp id, oversized, garbage, XML
that cannot carry the characters) gets 4xx and leaves every table as it was.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import SQLModel
from wechatpy.crypto import WeChatCrypto as WechatCrypto

import bot.models  # noqa: F401  (fills SQLModel.metadata)
from bot import clock
from bot.channels.wecom import MAX_BODY, MAX_MSG_TYPE
from bot.web import build_app
from tests.callbacks import APP_ID, CORP_ID, TOKEN, WECHAT, WECOM, decrypt_reply, sign_wecom, wechat_query
from tests.conftest import make_runtime
from tests.helpers import add_roster

FEW = settings(max_examples=20)
SOME = settings(max_examples=50)
_ids = itertools.count(8_000_000_000_000_000_000)

# Characters that stress the XML layer: the CDATA terminator, markup, NUL and other control characters,
# the XML-illegal non-characters, line separators, full-width and astral characters.
NASTY = st.sampled_from(["]]>", "]]]]>", "<![CDATA[", "<", ">", "&", "&amp;", '"', "'", "\x00", "\x01", "\x08",
                         "\x0b", "\x1f", "\x7f", "\t", "\r", "\n", "\r\n", "\ufffe", "\uffff", "\u2028", "\ufeff",
                         "＃", "１", "　", "𠀀", "😀", "帮助", "反映 ", "@b1 ", "#1"])
FIELD = st.lists(st.one_of(st.text(max_size=12), NASTY), max_size=8).map("".join)
HUGE = st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "字", "]]>", "\x01"]), st.integers(20_000, 61_440))
VALUE = st.one_of(FIELD, FIELD, FIELD, HUGE)
SENDER = st.one_of(st.sampled_from(["m1", "sec", "cw", "M1", "gone"]), FIELD)
MSG_TYPE = st.one_of(st.sampled_from(["text", "text", "event", "image", "voice", "location", "link"]), FIELD,
                     st.text(alphabet="abcxyz_字", min_size=30, max_size=40))
EVENT = st.one_of(st.sampled_from(["click", "enter_agent", "subscribe", "template_card_event"]), FIELD)
EVENT_KEY = st.one_of(st.sampled_from(["help", "checkin", "my_points", "study_today", "checkin:2026-11-25",
                                       "checkin:2026-11-24", "checkin:x"]), VALUE)


def xml_legal(value: str) -> bool:
    """Can XML 1.0 carry this text at all (Char production)?"""
    return all(c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) >= 0x10000
               for c in value)


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@st.composite
def messages(draw: Any) -> dict[str, Any]:
    """A plain callback XML with random field values, each written as CDATA or escaped text."""
    fields = {"ToUserName": CORP_ID, "FromUserName": draw(SENDER), "CreateTime": str(clock.timestamp()),
              "MsgType": draw(MSG_TYPE), "AgentID": "1000002"}
    if fields["MsgType"] == "event":
        fields["Event"] = draw(EVENT)
        fields["EventKey"] = draw(EVENT_KEY)
    else:
        fields["Content"] = draw(VALUE)
        fields["MsgId"] = str(next(_ids))
    style = draw(st.sampled_from(["cdata", "escape"]))
    inner = "".join(f"<{k}>{cdata(v) if style == 'cdata' else escape(v)}</{k}>" for k, v in fields.items())
    return {"xml": f"<xml>{inner}</xml>", "fields": fields}


def parses_to_message(fields: dict[str, str]) -> bool:
    """Would a correct parser accept it: every value is legal XML and there is a sender and a type."""
    if not all(xml_legal(v) for v in fields.values()):
        return False
    if fields["MsgType"].strip().lower() == "event" and not fields.get("Event", "").strip():
        return False  # an event without its name is malformed
    msg_type = fields["MsgType"].strip().lower()
    return bool(fields["FromUserName"].strip()) and 0 < len(msg_type) <= MAX_MSG_TYPE


def row_counts(rt: Any) -> dict[str, int]:
    with rt.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables}


def refused_and_nothing_stored(rt: Any, before: dict[str, int], resp: Any) -> None:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.data[:200])
    assert row_counts(rt) == before


def wecom_post(client: Any, query: str, body: bytes) -> Any:
    return client.post(f"/wecom/callback?{query}", data=body, content_type="text/xml")


@pytest.fixture
def edge(backend: str) -> Any:
    """(test client, runtime): both callbacks configured, the shared roster, the clock pinned."""
    runtime = make_runtime(backend, wecom=WECOM, wechat=WECHAT)
    add_roster(runtime)
    yield build_app(runtime=runtime).test_client(), runtime
    runtime.close()


def check_accepted_reply(resp: Any, sender: str, decrypt: Any) -> None:
    assert resp.status_code == 200, resp.data[:200]
    if not resp.data:
        return
    reply = decrypt(resp.data)
    assert reply["ToUserName"] == sender  # `]]>` and markup in the sender survive the round trip
    assert reply["MsgType"] in ("text", "update_button")
    if reply["MsgType"] == "text":
        assert reply.get("Content")
        assert len(reply["Content"].encode()) <= 2048


@SOME
@given(msg=messages())
def test_wecom_any_field_values(edge, msg):
    client, rt = edge
    query, body = sign_wecom(msg["xml"])
    before = row_counts(rt)
    resp = wecom_post(client, query, body)
    if len(body) > MAX_BODY:
        assert resp.status_code == 413
        assert row_counts(rt) == before
    elif parses_to_message(msg["fields"]):
        expected = xmltodict.parse(msg["xml"])["xml"]["FromUserName"]
        check_accepted_reply(resp, expected, decrypt_reply)
    else:
        refused_and_nothing_stored(rt, before, resp)


@FEW
@given(msg=messages(), signature=st.text(alphabet="0123456789abcdef", max_size=60))
def test_wecom_bad_signature(edge, msg, signature):
    client, rt = edge
    query, body = sign_wecom(msg["xml"])
    before = row_counts(rt)
    good = dict(p.split("=", 1) for p in query.split("&"))["msg_signature"]
    if signature == good:
        signature += "0"
    bad = urlencode({"msg_signature": signature, "timestamp": clock.timestamp(), "nonce": "nonce42"})
    refused_and_nothing_stored(rt, before, wecom_post(client, bad, body))


@FEW
@given(msg=messages(), skew=st.one_of(st.integers(301, 10**9), st.integers(-(10**9), -301)))
def test_wecom_stale_or_future_timestamp(edge, msg, skew):
    client, rt = edge
    before = row_counts(rt)
    query, body = sign_wecom(msg["xml"], timestamp=clock.timestamp() + skew)
    refused_and_nothing_stored(rt, before, wecom_post(client, query, body))


@FEW
@given(msg=messages(), stamp=st.text(max_size=20).filter(lambda s: not s.strip().lstrip("+-").isdigit()))
def test_wecom_timestamp_that_is_no_number(edge, msg, stamp):
    client, rt = edge
    before = row_counts(rt)
    query, body = sign_wecom(msg["xml"])
    args = dict(p.split("=", 1) for p in query.split("&"))
    bad = urlencode({"msg_signature": args["msg_signature"], "timestamp": stamp, "nonce": "nonce42"})
    refused_and_nothing_stored(rt, before, wecom_post(client, bad, body))


@FEW
@given(msg=messages(), corp=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
                                    min_size=1, max_size=30).filter(lambda c: c != CORP_ID))
def test_wecom_foreign_corp_id(edge, msg, corp):
    client, rt = edge
    before = row_counts(rt)
    query, body = sign_wecom(msg["xml"], corp_id=corp)
    refused_and_nothing_stored(rt, before, wecom_post(client, query, body))


@FEW
@given(body=st.one_of(st.binary(max_size=4096), st.integers(1, 4096).map(lambda n: b"<xml>" * (MAX_BODY // 5 + n)),
                      st.builds(lambda b: b"<xml><Encrypt>" + b + b"</Encrypt></xml>", st.binary(max_size=2048))),
       signed=st.booleans())
def test_wecom_random_bytes(edge, body, signed):
    client, rt = edge
    before = row_counts(rt)
    query = urlencode({"msg_signature": hashlib.sha1(body).hexdigest() if signed else "",
                       "timestamp": clock.timestamp(), "nonce": "n"})
    refused_and_nothing_stored(rt, before, wecom_post(client, query, body))


@FEW
@given(echostr=st.text(max_size=200), signature=st.text(alphabet="0123456789abcdef", max_size=40))
def test_wecom_url_verification_never_fails_open(edge, echostr, signature):
    client, rt = edge
    before = row_counts(rt)
    resp = client.get("/wecom/callback", query_string={"msg_signature": signature, "nonce": "n",
                                                         "timestamp": clock.timestamp(), "echostr": echostr})
    refused_and_nothing_stored(rt, before, resp)


def oa_fields(fields: dict[str, str]) -> dict[str, str]:
    return {**fields, "ToUserName": "gh_test"}


def oa_xml(msg: dict[str, Any]) -> tuple[str, dict[str, str]]:
    fields = oa_fields(msg["fields"])
    fields.pop("AgentID", None)
    return "<xml>" + "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>", fields


def decrypt_oa(body: bytes) -> dict[str, Any]:
    data = xmltodict.parse(body)["xml"]
    crypto = WechatCrypto(TOKEN, WECHAT["encoding_aes_key"], APP_ID)
    return xmltodict.parse(crypto.decrypt_message(body, data["MsgSignature"], data["TimeStamp"], data["Nonce"]))["xml"]


def oa_safe(xml: str, app_id: str = APP_ID, timestamp: int | None = None) -> tuple[str, bytes]:
    stamp = str(clock.timestamp() if timestamp is None else timestamp)
    envelope = xmltodict.parse(WechatCrypto(TOKEN, WECHAT["encoding_aes_key"], app_id)
                               .encrypt_message(xml, "n1", stamp))["xml"]
    body = f"<xml><ToUserName>gh_test</ToUserName><Encrypt>{cdata(envelope['Encrypt'])}</Encrypt></xml>".encode()
    return wechat_query(int(stamp), "n1", {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}), body


@SOME
@given(msg=messages(), safe=st.booleans())
def test_official_account_any_field_values(edge, msg, safe):
    client, rt = edge
    xml, fields = oa_xml(msg)
    if safe:
        query, body = oa_safe(xml)
    else:
        query, body = wechat_query(), xml.encode("utf-8", "surrogatepass")
    before = row_counts(rt)
    resp = client.post(f"/wechat/callback?{query}", data=body, content_type="text/xml")
    if len(body) > MAX_BODY:
        assert resp.status_code == 413
        assert row_counts(rt) == before
    elif parses_to_message(fields):
        sender = xmltodict.parse(xml)["xml"]["FromUserName"]
        check_accepted_reply(resp, sender, decrypt_oa if safe else (lambda b: xmltodict.parse(b)["xml"]))
    else:
        refused_and_nothing_stored(rt, before, resp)


@FEW
@given(msg=messages(), how=st.sampled_from(["signature", "stale", "app_id", "bytes"]), junk=st.binary(max_size=512))
def test_official_account_refusals(edge, msg, how, junk):
    client, rt = edge
    xml, _ = oa_xml(msg)
    query, body = oa_safe(xml)
    if how == "signature":
        query = query.replace("signature=", "signature=0", 1)
    elif how == "stale":
        query, body = oa_safe(xml, timestamp=clock.timestamp() - 301)
    elif how == "app_id":
        query, body = oa_safe(xml, app_id="wxforeignapp")
    else:
        body = junk
    before = row_counts(rt)
    refused_and_nothing_stored(rt, before, client.post(f"/wechat/callback?{query}", data=body,
                                                       content_type="text/xml"))
