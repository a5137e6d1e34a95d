"""Morning study through signed WeCom callbacks and the study page, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select

from bot.models import CheckIn, Reflection
from scheduler.runner import run_job
from tests.callbacks import decrypt_reply, event_xml, post_wecom, say_wecom
from tests.study_helpers import add_items, at_day, item


@pytest.fixture
def chat(app_rt):
    """The chat app (conftest's app_rt) with two study items."""
    add_items(app_rt[1], item("a1", question="党的一大在哪一年召开？", answer="1921"),
              item("b1", "伦理典故", body="<script>alert(1)</script>第一段\n第二段"))
    return app_rt


def _count(rt, model):
    with rt.session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_study_then_check_in_answer_and_reflect(chat):
    client, rt = chat
    assert "还没有发给您" in say_wecom(client, "m1", "1")
    shown = say_wecom(client, "m1", "学习")
    assert "标题a1" in shown
    assert "http://127.0.0.1:8000/study/a1" in shown
    assert "思考题" in shown
    first = say_wecom(client, "m1", "1")
    assert "打卡成功" in first
    assert "连续学习 1 天" in first
    assert "+1" in first
    assert "已经打过卡" in say_wecom(client, "m1", "打卡")
    assert "回答正确" in say_wecom(client, "m1", "答 1921")
    assert "已保存" in say_wecom(client, "m1", "心得 今天学完了，收获很多，要把学到的用在工作里。")
    assert _count(rt, CheckIn) == 1
    assert _count(rt, Reflection) == 1


def test_free_text_checks_in(chat):
    client, rt = chat
    say_wecom(client, "m2", "学习")
    assert "打卡成功" in say_wecom(client, "m2", "今天的学完了")
    assert _count(rt, CheckIn) == 1


def test_card_button_checks_in_and_turns_into_done(chat):
    client, rt = chat
    assert run_job(rt, "morning_study", dt.date(2026, 11, 25)) == "done"
    resp = post_wecom(client, event_xml("m1", "template_card_event", key="checkin:2026-11-25",
                                        task_id="study-2026-11-25-1"))
    reply = decrypt_reply(resp.data)
    assert reply["MsgType"] == "update_button"
    assert reply["Button"]["ReplaceName"] == "已完成"
    assert _count(rt, CheckIn) == 1
    past = post_wecom(client, event_xml("m1", "template_card_event", key="checkin:2026-11-24", task_id="t2"))
    assert "补签 2026-11-24" in decrypt_reply(past.data)["Content"]
    menu = post_wecom(client, event_xml("sec", "click", key="checkin"))
    assert "打卡成功" in decrypt_reply(menu.data)["Content"]


def test_make_up_through_chat_and_secretary_statistics(chat):
    client, rt = chat
    with rt.session() as s:
        from bot.services.study import core as study

        study.item_for(s, dt.date(2026, 11, 24))
    sent = say_wecom(client, "m1", "补签 2026-11-24 出差在外")
    assert "编号 #" in sent
    number = sent.split("#", 1)[1].split("，", 1)[0]
    assert "仅限支部书记使用" in say_wecom(client, "m1", "统计")
    assert f"#{number}" in say_wecom(client, "sec", f"通过 #{number}")
    assert _count(rt, CheckIn) == 1  # the approved make-up fills the 24th
    run_job(rt, "morning_study", dt.date(2026, 11, 25))
    say_wecom(client, "m1", "1")
    stats = say_wecom(client, "sec", "统计")
    assert "1/3" in stats
    assert "33%" in stats
    missing = say_wecom(client, "sec", "未学")
    assert "书记甲" in missing
    assert "党员丙" in missing
    assert "党员乙" not in missing
    assert "第一党支部" in say_wecom(client, "cw", "@b1 统计")
    assert "第一党支部：1/3" in say_wecom(client, "cw", "统计")


@pytest.mark.parametrize("day", [dt.date(2026, 11, 28), dt.date(2026, 10, 1)])  # a Saturday, National Day
def test_statistics_on_a_day_without_study_say_so_instead_of_zero(chat, day):
    client, _ = chat
    at_day(day)
    for who, text in (("sec", "统计"), ("cw", "统计"), ("cw", "@b1 统计")):
        reply = say_wecom(client, who, text)
        assert reply.startswith(f"{day.isoformat()} 不是学习日（节假日或周末），没有学习统计。"), (who, text)
        assert "%" not in reply
    assert say_wecom(client, "sec", "未学") == f"{day.isoformat()} 不是学习日（节假日或周末），不需要打卡。"
    at_day(dt.date(2026, 11, 25))  # the next workday counts again
    assert "0/3" in say_wecom(client, "sec", "统计")


def test_study_page_only_for_published_items_and_escaped(chat):
    client, rt = chat
    assert client.get("/study/b1").status_code == 404
    assert client.get("/study/nope").status_code == 404
    with rt.session() as s:
        from bot.services.study import core as study

        study.publish(s, study.item_for(s, dt.date(2026, 11, 25)))
        b1 = s.exec(select(study.StudyItem).where(study.StudyItem.slug == "b1")).one()
        study.publish(s, b1)
    page = client.get("/study/b1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "标题b1" in html
    assert "viewport" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert "<p>第二段</p>" in html
