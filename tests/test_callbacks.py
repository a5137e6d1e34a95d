"""Signed WeCom callbacks against the real app and database: verify, reply, dedup, refusals."""

import datetime as dt

import pytest
import xmltodict
from sqlmodel import func, select

from bot import clock
from bot.models import AuditLog, InboundMessage, Member
from bot.web import build_app
from tests.callbacks import (
    CORP_ID,
    WECOM,
    decrypt_reply,
    event_xml,
    post_wecom,
    say_wecom,
    sign_wecom,
    text_xml,
)
from tests.conftest import make_runtime
from tests.helpers import add_roster


@pytest.fixture
def app_rt(backend):
    runtime = make_runtime(backend, wecom=WECOM)
    add_roster(runtime)
    app = build_app(runtime=runtime)
    yield app, runtime
    runtime.close()


@pytest.fixture
def client(app_rt):
    return app_rt[0].test_client()


def count(rt, model, *where):
    with rt.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_wecom_published_vector_verifies(tmp_path):
    # The URL-verification example from WeCom's documentation, as used by wechatpy's own tests.
    runtime = make_runtime(f"sqlite:///{tmp_path}/v.db", wecom={
        "corp_id": "wx5823bf96d3bd56c7", "token": "QDG6eK",
        "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"})
    clock.freeze(dt.datetime.fromtimestamp(1409659589, tz=dt.UTC))
    client = build_app(runtime=runtime).test_client()
    resp = client.get("/wecom/callback", query_string={
        "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
        "nonce": "263014780",
        "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="})
    assert resp.status_code == 200
    assert resp.data == b"1616140317555161061"
    assert resp.mimetype == "text/plain"
    runtime.close()


def test_help_reply_is_encrypted_and_lists_member_commands(client):
    text = say_wecom(client, "m1", "帮助")
    assert "免打扰" in text
    assert "帮助" in text


def test_retry_gets_same_reply_and_effect_once(client, app_rt):
    _, rt = app_rt
    xml = text_xml("m1", "免打扰", msg_id=123456789)
    first = post_wecom(client, xml)
    second = post_wecom(client, xml)
    assert decrypt_reply(first.data)["Content"] == decrypt_reply(second.data)["Content"]
    assert "已开启免打扰" in decrypt_reply(second.data)["Content"]
    assert count(rt, AuditLog, AuditLog.action == "do_not_disturb") == 1
    assert count(rt, InboundMessage) == 1


def test_event_dedup_key_uses_sender_time_event_and_key(client, app_rt):
    _, rt = app_rt
    xml = event_xml("m1", "enter_agent", create_time=clock.timestamp())
    first = decrypt_reply(post_wecom(client, xml).data)["Content"]
    assert "党员乙同志" in first
    assert first.count("\n") == 1  # a two-line welcome
    again = post_wecom(client, xml)  # a platform retry: same reply
    assert decrypt_reply(again.data)["Content"] == first
    later = post_wecom(client, event_xml("m1", "enter_agent", create_time=clock.timestamp() + 60))
    assert later.status_code == 200
    assert later.data == b""  # only the first visit is welcomed
    assert count(rt, InboundMessage) == 2


def test_menu_help_key(client):
    resp = post_wecom(client, event_xml("m1", "click", key="help"))
    assert decrypt_reply(resp.data)["Content"].startswith("可用指令（党员），常用的有：")  # the menu, not the fallback


@pytest.mark.parametrize("case", ["signature", "stale", "future", "corp", "malformed", "xxe", "no_encrypt",
                                  "oversized", "garbage_base64"])
def test_refusals_are_4xx_and_store_nothing(client, app_rt, case):
    _, rt = app_rt
    xml = text_xml("m1", "帮助")
    query, body = sign_wecom(xml)
    if case == "signature":
        query = query.replace("msg_signature=", "msg_signature=0")
    elif case == "stale":
        query, body = sign_wecom(xml, timestamp=clock.timestamp() - 301)
    elif case == "future":
        query, body = sign_wecom(xml, timestamp=clock.timestamp() + 400)
    elif case == "corp":
        query, body = sign_wecom(xml, corp_id="wwforeigncorp")
    elif case == "malformed":
        body = b"<xml><Encrypt>unterminated"
    elif case == "xxe":
        body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b"<xml><Encrypt>&e;</Encrypt></xml>")
    elif case == "no_encrypt":
        body = b"<xml><ToUserName>x</ToUserName></xml>"
    elif case == "oversized":
        body = b"<xml><Encrypt>" + b"A" * (65 * 1024) + b"</Encrypt></xml>"
    elif case == "garbage_base64":
        body = b"<xml><Encrypt>!!!notbase64!!!</Encrypt></xml>"
    resp = client.post(f"/wecom/callback?{query}", data=body, content_type="text/xml")
    assert 400 <= resp.status_code < 500, (case, resp.status_code)
    assert count(rt, InboundMessage) == 0
    reason = resp.get_data(as_text=True)
    assert reason in ("bad signature", "stale timestamp", "wrong corp id or app id", "malformed body",
                      "missing MsgType or FromUserName", "body too large", "empty message"), (case, reason)


def test_form_content_type_body_is_read(client):
    query, body = sign_wecom(text_xml("m1", "帮助"))
    resp = client.post(f"/wecom/callback?{query}", data=body,
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200
    assert "免打扰" in decrypt_reply(resp.data)["Content"]


def test_cdata_terminator_in_reply_is_safe(client):
    text = say_wecom(client, "m1", "abc]]>def<x>&")
    assert "abc]]>def<x>&" in text  # the unknown-command answer quotes the text back intact


def test_unknown_text_suggests_nearest_command(client):
    """A typo of a command word gets the nearest words (the fallback alone would also mention 帮助)."""
    assert say_wecom(client, "m1", "积份") == (
        "没有看懂「积份」。您是不是想用：「积分」、「积分明细」、「积分排行」？\n回复「帮助」查看全部指令。")
    assert say_wecom(client, "m1", "签道").startswith("没有看懂「签道」。您是不是想用：「补签」、「签到」？")
    assert say_wecom(client, "m1", "abc").startswith("没有看懂「abc」。回复「帮助」查看可用指令")  # nothing near


def test_intent_from_free_text(client):
    """Free text asking how to use the bot gets the member's menu; the fallback (没有看懂…查看可用指令) would
    also contain 可用指令, so the assertion is on the menu's own opening."""
    assert say_wecom(client, "m1", "这个怎么用啊").startswith("可用指令（党员），常用的有：")


def test_strangers_and_inactive_members_are_told_they_are_not_on_the_roster(client):
    assert "不在党员名册" in say_wecom(client, "nobody", "帮助")
    assert "不在党员名册" in say_wecom(client, "gone", "帮助")


def test_userid_is_case_insensitive(client):
    assert "免打扰" in say_wecom(client, "M1", "帮助")


def test_full_width_input_is_normalised(client, app_rt):
    _, rt = app_rt
    assert "已开启免打扰" in say_wecom(client, "m1", "　免打扰　")
    with rt.session() as s:
        assert s.exec(select(Member).where(Member.userid == "m1")).one().do_not_disturb


def test_reply_uses_our_clock_and_addresses(client):
    resp = post_wecom(client, text_xml("m1", "帮助"))
    reply = decrypt_reply(resp.data)
    assert reply["ToUserName"] == "m1"
    assert reply["FromUserName"] == CORP_ID
    assert int(reply["CreateTime"]) == clock.timestamp()
    envelope = xmltodict.parse(resp.data)["xml"]
    assert envelope["TimeStamp"] == str(clock.timestamp())
