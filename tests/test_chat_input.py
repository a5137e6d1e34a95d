"""Chat as members really type it (CONTRACT "Chat input"), through signed callbacks on SQLite and PostgreSQL:
free-text intents, questions that never act, separators, and messages that are not text."""

from __future__ import annotations

import itertools
import re

import pytest
import xmltodict
from sqlmodel import SQLModel, select, text

from bot import clock
from bot.models import Member
from handlers import build_router
from tests.attendance_helpers import at, move
from tests.callbacks import CORP_ID, WECHAT, decrypt_reply, post_wecom, say_wecom, wechat_query
from tests.conftest import make_runtime
from tests.helpers import add_roster
from tests.study_helpers import add_items, item

_ids = itertools.count(8_100_000_000_000_000_000)
SKIP_TABLES = {"inbound_message", "reply_pages"}


@pytest.fixture
def chat(app_rt):
    client, rt = app_rt
    add_items(rt, item("a1", question="《史记》之后的第一部纪传体断代史是？", answer="汉书"))
    return client, rt


def _snapshot(rt) -> dict[str, list[tuple]]:
    """Every row of every table a command could change (not the inbound log or stored reply pages)."""
    with rt.session() as s:
        return {t.name: sorted(map(tuple, s.connection().execute(t.select()).all()), key=repr)
                for t in SQLModel.metadata.sorted_tables if t.name not in SKIP_TABLES}


def _publish(client) -> None:
    assert "已发布主题党日" in say_wecom(client, "sec", "发布主题党日 2026-12-05 14:30 会议室 学习")


CHECKIN = ["已学了", "学了", "已学习", "学习完毕", "已经学了", "已学👍", "我学完了今天的", "学完了", "已学✅"]
ATTEND = ["我参加", "参加👍", "我会参加的", "准时参加"]


def test_issue_phrases_act_or_answer(chat):
    client, _ = chat
    say_wecom(client, "m1", "学习")
    first, *rest = CHECKIN
    assert "打卡成功" in say_wecom(client, "m1", first)
    for phrase in rest:
        assert "已经打过卡" in say_wecom(client, "m1", phrase), phrase
    _publish(client)
    assert "已确认参加" in say_wecom(client, "m1", ATTEND[0])
    for phrase in ATTEND[1:]:
        assert "您已确认参加" in say_wecom(client, "m1", phrase), phrase
    assert "「学习」" in say_wecom(client, "m2", "今天学什么")
    for phrase in ("HELP", "这个怎么用", "help"):
        assert say_wecom(client, "m2", phrase).startswith("可用指令（党员），常用的有："), phrase  # not the fallback


@pytest.mark.parametrize(("said", "expected"), [
    ("我想请假", "「请假 原因」"),
    ("那天有事去不了", "「请假 原因」"),
    ("我要反映问题", "「反映 内容」"),
    ("我有多少分", "「积分」"),
    ("怎么打卡", "学完今天的内容后打卡"),
    ("打卡怎么弄", "学完今天的内容后打卡"),
    ("请假怎么弄", "请假 原因"),
    ("如何参加", "确认参加"),
    ("补签怎么办", "补签 YYYY-MM-DD"),
    ("签到吗", "签到 码"),
    ("还没学", "没有看懂"),
    ("已完成", "回复「已学」打卡"),  # near a check-in, not clearly one: says what to send
    ("已收到", "没有看懂"),
    ("这个怎么用啊", "可用指令（党员），常用的有："),  # the menu: the fallback says 查看可用指令
    ("小区路灯坏了", "「反映 内容」"),
])
def test_free_text_answers_with_the_command(chat, said, expected):
    client, rt = chat
    before = _snapshot(rt)
    assert expected in say_wecom(client, "m2", said)
    assert _snapshot(rt) == before  # none of these acts


QUESTION_FORMS = ("怎么{}", "{}怎么弄", "{}吗", "如何{}", "{}怎么办", "{}？", "怎样{}", "{}?", "{}怎么弄？")
PHRASED = [("m1", "怎么请假"), ("m1", "请假怎么弄"), ("m1", "补签怎么弄？"), ("m1", "签到吗"), ("m1", "怎么打卡"),
           ("m1", "打卡怎么弄"), ("m1", "已学吗"), ("m1", "学完了怎么打卡"), ("m1", "参加吗"), ("m1", "积分怎么算"),
           ("m1", "怎么反映问题"), ("m1", "请假要写原因吗"), ("m1", "销假怎么弄"), ("m1", "补签怎么办？"),
           ("sec", "补签到怎么弄"), ("sec", "准假怎么弄？"), ("sec", "怎么发布主题党日"), ("sec", "加分怎么弄"),
           ("sec", "签到码怎么弄")]


@pytest.mark.parametrize("form", QUESTION_FORMS)
def test_every_question_form_of_every_command_never_acts(chat, form):
    """The table: every command word the member or the secretary can send, in every question form, answers
    how through a signed callback and writes no row (no leave, no check-in, no points, no ticket)."""
    client, rt = chat
    say_wecom(client, "m1", "学习")
    _publish(client)
    router = build_router()
    with rt.session() as s:
        member, sec = (s.exec(select(Member).where(Member.userid == u)).one() for u in ("m1", "sec"))
        own = [w for w in router.command_words(member) if not w.isascii()]
        secretary = [w for w in router.command_words(sec) if not w.isascii() and w not in own]
    assert {"已学", "打卡", "参加", "请假", "销假", "签到", "补签", "反映", "承诺", "答"} <= set(own)
    assert {"签到码", "通过", "驳回", "加分", "取消", "补签到", "准假", "发布主题党日"} <= set(secretary)
    table = [("m1", form.format(w)) for w in own] + [("sec", form.format(w)) for w in secretary]
    if form == QUESTION_FORMS[0]:
        table += PHRASED
    before = _snapshot(rt)
    for user, said in table:
        reply = say_wecom(client, user, said)
        # how to use it, or the menu; never the fallback (没有看懂…查看可用指令), which acts on nothing either
        assert reply.startswith(("这样用（提问不会执行指令）", "可用指令（")), (said, reply)
    assert _snapshot(rt) == before


def test_a_command_with_an_argument_is_not_a_question(chat):
    client, rt = chat
    assert "#" in say_wecom(client, "m1", "反映 小区路灯坏了怎么办")
    with rt.session() as s:
        assert s.exec(text("select text from ticket")).one()[0] == "小区路灯坏了怎么办"


def _media_xml(user: str, msg_type: str, fields: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{clock.timestamp()}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}"
            f"<MsgId>{next(_ids)}</MsgId><AgentID>1000002</AgentID></xml>")


@pytest.mark.parametrize(("msg_type", "fields", "expected"), [
    ("image", "<PicUrl><![CDATA[http://x/p.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId>", "暂不支持图片"),
    ("voice", "<MediaId><![CDATA[m]]></MediaId><Format><![CDATA[amr]]></Format>", "暂不支持语音"),
    ("video", "<MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId>", "暂不支持视频"),
    ("location", "<Location_X>23.1</Location_X><Location_Y>113.3</Location_Y><Scale>20</Scale>"
                 "<Label><![CDATA[广州]]></Label>", "签到 签到码"),
    ("link", "<Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description>"
             "<Url><![CDATA[http://x]]></Url><PicUrl><![CDATA[http://x/p]]></PicUrl>", "暂不支持链接"),
])
def test_messages_that_are_not_text_get_a_hint(app_rt, msg_type, fields, expected):
    client, rt = app_rt
    before = _snapshot(rt)
    resp = post_wecom(client, _media_xml("m1", msg_type, fields))
    assert resp.status_code == 200
    assert expected in decrypt_reply(resp.data)["Content"]
    assert _snapshot(rt) == before


def _oa_voice(openid: str, recognition: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{clock.timestamp()}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
            f"<MediaId><![CDATA[m]]></MediaId><Format><![CDATA[amr]]></Format>"
            f"<Recognition><![CDATA[{recognition}]]></Recognition><MsgId>{next(_ids)}</MsgId></xml>")


def test_official_account_voice_with_recognition_is_that_text(backend):
    from bot.web import build_app

    rt = make_runtime(backend, wechat=WECHAT)
    try:
        add_roster(rt)
        with rt.session() as s:
            member = s.exec(select(Member).where(Member.userid == "m1")).one()
            member.openid = "openid-m1"
            s.add(member)
        client = build_app(runtime=rt).test_client()

        def post(body: str) -> str:
            resp = client.post(f"/wechat/callback?{wechat_query()}", data=body.encode())
            assert resp.status_code == 200
            return xmltodict.parse(resp.data)["xml"]["Content"]

        assert "可用指令" in post(_oa_voice("openid-m1", "帮助。"))
        assert "暂不支持语音" in post(_oa_voice("openid-m1", ""))
    finally:
        rt.close()


@pytest.mark.parametrize(("said", "stored"), [
    ("反映：小区东门路灯坏了", "小区东门路灯坏了"),
    ("反映:　楼道堆满杂物，请清理", "楼道堆满杂物，请清理"),
    ("建议，多组织读书活动！", "多组织读书活动！"),
])
def test_separators_are_not_stored_and_text_is_kept_as_sent(app_rt, said, stored):
    client, rt = app_rt
    assert "#" in say_wecom(client, "m1", said)
    with rt.session() as s:
        assert s.exec(text("select text from ticket")).one()[0] == stored


def test_answer_commitment_and_sign_in_with_chinese_separators(chat):
    client, rt = chat
    say_wecom(client, "m1", "学习")
    assert "回答正确" in say_wecom(client, "m1", "答：汉书")
    assert "回答正确" not in say_wecom(client, "m2", "答汉书")  # one character needs a separator
    assert "承诺" in say_wecom(client, "m1", "承诺：每月走访两户困难群众，全年不少于二十户")
    with rt.session() as s:
        assert s.exec(text("select text from commitment")).one()[0] == "每月走访两户困难群众，全年不少于二十户"
        assert s.exec(text("select text from study_answer")).one()[0] == "汉书"
    assert "年度承诺：每月走访两户" in say_wecom(client, "m1", "我的承诺")  # no stray 「:」 shown
    _publish(client)
    say_wecom(client, "m2", "请假，出差在外（１２月）")
    with rt.session() as s:
        reasons = [r[0] for r in s.exec(text("select summary from approval")).all()]
    assert any("出差在外（１２月）" in r for r in reasons), reasons
    code = re.search(r"签到码：(\d{4})", say_wecom(client, "sec", "签到码")).group(1)
    move(at(2026, 12, 5, 14, 20))
    assert "签到成功" in say_wecom(client, "m1", f"签到：{code}")
    assert "签到成功" in say_wecom(client, "sec", f"签到码{code}")


def test_arguments_separated_by_chinese_commas_and_reasons_kept_as_sent(app_rt):
    client, rt = app_rt
    assert "#" in say_wecom(client, "m1", "反映 楼道灯坏了，请尽快修理")
    with rt.session() as s:
        number = s.exec(text("select number from ticket")).one()[0]
    assert f"#{number}" in say_wecom(client, "sec", f"回复：#{number}，已报物业（３天内）")
    with rt.session() as s:
        events = [r[0] for r in s.exec(text("select text from ticket_event where text is not null")).all()]
    assert "已报物业（３天内）" in events, events
    assert "已记入：党员乙 +3 分（带头走访（全年））" in say_wecom(client, "sec", "加分：m1、3、带头走访（全年）")
    with rt.session() as s:
        reasons = [r[0] for r in s.exec(text("select reason from ledger_entry")).all()]
    assert "带头走访（全年）" in reasons, reasons


def test_a_listing_word_followed_by_text_is_the_base_command(app_rt):
    client, rt = app_rt
    assert "承诺" in say_wecom(client, "m1", "承诺公示：带头参加志愿服务，每季度不少于两次")
    with rt.session() as s:
        assert s.exec(text("select text from commitment")).one()[0] == "带头参加志愿服务，每季度不少于两次"
