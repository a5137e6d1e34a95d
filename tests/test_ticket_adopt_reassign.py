"""采纳 closes a suggestion (never escalated as overdue afterwards) and 指派 to someone else ends the previous
assignee's part (no rights, no further notices); through signed WeCom callbacks, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot import clock, outbox
from bot.models import Branch, Delivery, LedgerEntry, Member, Ticket, TicketEscalation
from bot.web import build_app
from scheduler import jobs
from tests.callbacks import AES_KEY, CORP_ID, TOKEN, say_wecom
from tests.helpers import add_roster, texts_to

pytest_plugins = ("tests.fakewecom",)
TZ = clock.tz()
SECRETARY_ONLY = "仅限支部书记使用"


def _ticket(rt, number: int) -> Ticket:
    with rt.session() as s:
        return s.exec(select(Ticket).where(Ticket.number == number)).one()


def test_adopt_closes_the_suggestion_and_it_is_never_escalated(app_rt):
    client, rt = app_rt
    assert "编号 #1" in say_wecom(client, "m2", "建议 班车增加晚班一趟")
    assert "编号 #2" in say_wecom(client, "m1", "建议 食堂增加夜班餐")
    assert "编号 #3" in say_wecom(client, "m1", "建议 图书角增加党史书籍")
    assert say_wecom(client, "sec", "采纳 1") == "#1 已采纳，已通知建议人。"
    adopted = _ticket(rt, 1)
    assert (adopted.status, adopted.resolution, adopted.adopted) == ("closed", "已采纳", True)
    assert adopted.closed_at is not None
    assert texts_to(rt, "m2")[-1] == "您的建议 #1 已被采纳，谢谢！"
    with rt.session() as s:
        assert [e.rule for e in s.exec(select(LedgerEntry))] == ["suggestion_adopted"]
    view = say_wecom(client, "m2", "进度 1").splitlines()
    assert view[0].startswith("#1 建议")
    assert view[0].endswith("：已办结")
    assert any(line.endswith(" 已采纳") for line in view)
    assert "#1 " not in say_wecom(client, "sec", "进度")  # no longer among the branch's open tickets
    # a suggestion closed first keeps its own resolution when adopted later
    assert say_wecom(client, "sec", "办结 3 已转交工会") == "#3 已办结，已请反映人评价。"
    assert say_wecom(client, "sec", "采纳 3") == "#3 已采纳，已通知建议人。"
    assert (_ticket(rt, 3).status, _ticket(rt, 3).resolution) == ("closed", "已转交工会")
    with rt.session() as s:  # one adopted before 采纳 closed suggestions: still open, yet adopted
        s.exec(select(Ticket).where(Ticket.number == 2)).one().adopted = True
    # 不满意 on an adopted suggestion is recorded and does not reopen it
    assert say_wecom(client, "m2", "不满意 1") == "已记录您对 #1 的不满意评价，并报支部书记。"
    assert (_ticket(rt, 1).status, _ticket(rt, 1).rating) == ("closed", "unsatisfied")
    clock.freeze(dt.datetime(2026, 12, 15, 9, 0, tzinfo=TZ))  # every deadline long past
    assert jobs.get("ticket_escalation").run(rt, dt.date(2026, 12, 15)) == (
        "supervision_notices=0 commitments_escalated=0")
    with rt.session() as s:
        assert s.exec(select(TicketEscalation)).all() == []
        assert [t.level for t in s.exec(select(Ticket))] == [0, 0, 0]
    assert not any(t.startswith("督办") for t in texts_to(rt, "cw"))


def test_reassigned_ticket_leaves_the_previous_assignee(make_rt, fake_wecom):
    rt = make_rt(wecom={"corp_id": CORP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY},
                 delivery={"daily_budget": 0})
    add_roster(rt)
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
        s.add(Member(userid="m3", name="党员辛", branch_id=b1.id))
    client = build_app(runtime=rt).test_client()
    say_wecom(client, "m1", "反映 车间东门照明坏了一周")
    assert say_wecom(client, "sec", "指派 1 m2") == "#1 已指派给 党员丙，已通知本人。"
    outbox.Worker(rt, "w").drain()
    [first] = fake_wecom.delivered["m2"]
    assert first["content"].startswith("您被指定为 #1")

    assert say_wecom(client, "sec", "指派 1 党员辛") == "#1 已指派给 党员辛，已通知本人。"
    assert say_wecom(client, "m2", "回复 1 我来答复") == SECRETARY_ONLY  # no longer theirs
    assert say_wecom(client, "m2", "办结 1 已修好") == SECRETARY_ONLY
    assert say_wecom(client, "m2", "进度 1") == "#1 不是您可以查看或办理的问题。"
    assert texts_to(rt, "m2")[-1] == "#1 已改由其他同志负责（第 2 次指派），您不再是第一责任人，无需再办理。"
    # back to m2 before m3's notice went out: m3's queued notice is dropped and m3 hears nothing at all
    assert say_wecom(client, "sec", "指派 1 m2") == "#1 已指派给 党员丙，已通知本人。"
    assert say_wecom(client, "m3", "回复 1 我来答复") == SECRETARY_ONLY
    with rt.session() as s:
        assert [d.status for d in s.exec(select(Delivery).where(Delivery.recipient == "m3"))] == ["expired"]
    assert say_wecom(client, "m2", "办结 1 灯已换好") == "#1 已办结，已请反映人评价。"
    assert say_wecom(client, "m1", "不满意 1").startswith("已记录您的不满意，#1 重新办理")
    outbox.Worker(rt, "w").drain()
    assert "m3" not in fake_wecom.delivered
    got = [p["content"] for p in fake_wecom.delivered["m2"]]
    assert got[1] == "#1 已改由其他同志负责（第 2 次指派），您不再是第一责任人，无需再办理。"
    assert got[2].startswith("#1（其他）又指定由您负责（第 3 次指派）")  # told again, in other words
    assert got[3].startswith("#1 的反映人不满意，问题重新办理")
    with rt.session() as s:
        m2 = s.exec(select(Member).where(Member.userid == "m2")).one()
        assert _ticket(rt, 1).assignee_id == m2.id
    assert say_wecom(client, "sec", "指派 1 m2") == "#1 已指派给 党员丙，已通知本人。"  # already theirs
    outbox.Worker(rt, "w").drain()
    assert len(fake_wecom.delivered["m2"]) == 4  # nobody told twice
    assert fake_wecom.duplicates == []
    assert [p["content"] for p in fake_wecom.delivered["m1"]][1:3] == [
        "您反映的 #1 改由 党员辛 负责办理（第 2 次指派）。", "您反映的 #1 改由 党员丙 负责办理（第 3 次指派）。"]
