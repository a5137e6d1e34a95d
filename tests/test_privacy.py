"""Privacy (CONTRACT.md "Privacy"): an anonymous report and everything about it leave no trace of the reporter
in any table, and no time finer than the day; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import DateTime, select
from sqlmodel import SQLModel

from bot import clock, inbound, outbox
from bot.message import InboundMessage as Msg
from bot.models import Branch, Member, Ticket
from bot.services.tickets import escalation as tickets_escalation
from bot.web import build_app
from handlers import build_router
from tests.callbacks import WECOM, say_wecom
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster

KEYS = {"secret_key": "test-secret-key-0001", "seal_key": "test-seal-key-0001"}
REPORTER = {"userid": "whistle.blower", "name": "吹哨人", "openid": "oWhistleOpenId42", "phone": "13912345678"}
COMMITTEE = {"userid": "committee.whistler", "name": "委员举报人"}
INFRASTRUCTURE = {"key_value", "lease"}  # the token cache and leases: never about a report


@pytest.fixture
def world(backend: str, fake_wecom) -> Iterator[tuple[Any, Any, dict[str, int]]]:
    rt = make_runtime(backend, wecom={**WECOM, "api_base_url": fake_wecom.url}, app=KEYS,
                      delivery={"backoff_seconds": 0.05, "backoff_max_seconds": 0.1})
    people = add_roster(rt)
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).scalar_one()
        dw = s.exec(select(Branch).where(Branch.code == "dw")).scalar_one()
        b2 = Branch(code="b2", name="第二党支部", parent_id=dw.id)  # no tickets: its committee member handles none
        s.add(b2)
        s.flush()
        whistle = Member(branch_id=b1.id, **REPORTER)
        boss = Member(branch_id=b2.id, roles="member;committee", **COMMITTEE)
        s.add_all([whistle, boss])
        s.flush()
        ids = {"reporter": whistle.id, "committee": boss.id, "b1": b1.id, "m2": people["m2"].userid}
    yield build_app(runtime=rt).test_client(), rt, ids
    rt.close()


def dump(rt) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
    """(table, column, value, row) for every value of every table."""
    with rt.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for column in table.columns:
                    yield table.name, column.name, row[column.name], dict(row)


def member_columns() -> set[tuple[str, str]]:
    """(table, column) of every foreign key to member.id."""
    return {(t.name, c.name) for t in SQLModel.metadata.sorted_tables for c in t.columns
            if any(fk.column.table.name == "member" for fk in c.foreign_keys)}


def assert_no_trace(rt, member_ids: set[int], secrets: list[str]) -> None:
    fks = member_columns()
    times = {(t.name, c.name) for t in SQLModel.metadata.sorted_tables for c in t.columns
             if isinstance(c.type, DateTime) or getattr(c.type, "impl", None).__class__ is DateTime}
    problems = []
    for table, column, value, row in dump(rt):
        if table == "member" or table in INFRASTRUCTURE or value is None:
            continue
        where = f"{table}.{column}={value!r} in {row}"
        if isinstance(value, str):
            if any(s.lower() in value.lower() for s in secrets) or value.startswith("enc:"):
                problems.append(where)
        elif (table, column) in fks and value in member_ids:
            problems.append(where)
        elif (table, column) in times or isinstance(value, dt.datetime):
            local = clock.local(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
            if local.time() != dt.time(0):
                problems.append(where)
        elif column in ("retry_at", "lease_until") and value:
            problems.append(where)
    assert problems == [], "\n".join(problems)


def slow_anonymous_report(rt, sender: str, text: str) -> None:
    """A report whose handling outlasts the callback: the reply is pushed through the outbox."""
    router = build_router()
    gate = threading.Event()
    dispatch = router.dispatch

    def held(ctx):
        gate.wait(10)
        return dispatch(ctx)

    router.dispatch = held  # type: ignore[method-assign]
    msg = Msg(channel="wecom", sender=sender, msg_type="text", text=text, msg_id="991",
              create_time=clock.timestamp())
    assert inbound.handle(rt, router, msg, timeout=0.01) is None
    gate.set()
    rt.extras["inbound_pool"].shutdown(wait=True)
    rt.extras.pop("inbound_pool")


def test_anonymous_report_leaves_no_trace_of_the_reporter(world, fake_wecom):
    client, rt, ids = world
    who = REPORTER["userid"]
    assert "#1" in say_wecom(client, who, "匿名反映 有领导公车私用情况严重")
    assert "#2" in say_wecom(client, who.upper(), "匿名反映 食堂账目长期不公开")
    assert "#3" in say_wecom(client, COMMITTEE["userid"], "@b1 匿名反映 支部经费使用不透明")
    slow_anonymous_report(rt, who, "匿名反映 仓库物资去向不明已久")
    with rt.session() as s:
        rows = {t.number: t for t in s.exec(select(Ticket)).scalars()}
    assert len(rows) == 4
    assert all(t.anonymous for t in rows.values())
    assert len({t.reporter_ref for t in rows.values()}) == 4  # one seal per report, unrelated
    assert rows[3].branch_id == ids["b1"]  # the committee member's @b1 files it under b1
    assert "反映人：匿名" in say_wecom(client, "sec", "进度 1")
    say_wecom(client, "sec", "定级 1 急难")
    say_wecom(client, "sec", f"指派 1 {ids['m2']}")
    say_wecom(client, "sec", "回复 1 已转纪委核实")
    say_wecom(client, "cw", "@b1 回复 3 已收到")
    say_wecom(client, "sec", "办结 1 已查实处理")
    assert "公车私用" in say_wecom(client, who, "进度 1")
    assert "#1" in say_wecom(client, who, "进度")
    assert say_wecom(client, who, "不满意 1").startswith("已记录您的不满意，#1 重新办理")
    say_wecom(client, "sec", "办结 1 再次核实并处理")
    assert say_wecom(client, who, "满意 1").startswith("感谢评价")
    assert say_wecom(client, "m2", "满意 2") == "只有反映人可以评价 #2。"
    # #2 is overdue after its five workdays and goes up to the committee
    clock.freeze(DEFAULT_NOW + dt.timedelta(days=9))
    with rt.session() as s:
        assert tickets_escalation.escalate(s, rt.config, clock.today()) >= 1
    stats = outbox.Worker(rt, "w").drain()  # notices held by the daily budget are due by now too
    assert stats["sent"] >= 8
    assert stats["failed"] == 0
    told = [m["content"] for m in fake_wecom.delivered[who]]
    assert sorted(set(told)) == ["您匿名反映的问题有新进展，回复「进度」查看。",
                                 "您的匿名反映已收到。回复「进度」可查看办理进度。"]
    secrets = [who, REPORTER["openid"], REPORTER["name"], REPORTER["phone"], COMMITTEE["userid"], COMMITTEE["name"]]
    assert_no_trace(rt, {ids["reporter"], ids["committee"]}, secrets)


def test_a_refused_command_about_an_anonymous_ticket_is_sealed_too(world):
    """A secretary's 指派 on an anonymous report refused for its member argument: the inbound row is sealed
    (dates to the day, no content) like an accepted one, since the ticket number was already read."""
    from bot.models import InboundMessage as InboundRow

    client, rt, _ = world
    assert "#1" in say_wecom(client, REPORTER["userid"], "匿名反映 有领导公车私用情况严重")
    refused = say_wecom(client, "sec", "指派 1 名册上没有的人")
    assert "名册中没有" in refused
    with rt.session() as s:
        row = s.exec(select(InboundRow).order_by(InboundRow.id.desc())).scalars().first()  # type: ignore[union-attr]
    assert row.content == ""
    assert row.sender == ""
    assert clock.local(row.received_at).time() == dt.time(0, 0)  # kept to the day


@pytest.mark.parametrize(("command", "env"), [
    (["worker", "--once"], {"DANGJIAN_WECOM_CORP_ID": "wwcorp"}),
    (["scheduler"], {"DANGJIAN_WECHAT_APP_ID": "wxapp", "DANGJIAN_APP_SEAL_KEY": "a-real-seal"}),
    (["serve", "--port", "1"], {"DANGJIAN_WECOM_CORP_ID": "wwcorp", "DANGJIAN_APP_SEAL_KEY": "change-me",
                                "DANGJIAN_APP_SECRET_KEY": "a-real-secret"}),
])
def test_processes_refuse_default_keys_once_a_platform_is_set(sqlite_url, command, env):
    from click.testing import CliRunner

    from bot.cli import cli

    base = {"DANGJIAN_DATABASE_URL": sqlite_url, "DANGJIAN_CONFIG": None}
    result = CliRunner().invoke(cli, command, env={**base, **env}, catch_exceptions=False)
    assert result.exit_code == 2
    key = "seal_key" if env.get("DANGJIAN_APP_SEAL_KEY") == "change-me" else "secret_key"
    assert f"[app] {key} is the default" in result.stderr
    if command[0] == "worker":  # with real keys it starts and drains
        keys = {"DANGJIAN_APP_SECRET_KEY": "a-real-secret", "DANGJIAN_APP_SEAL_KEY": "a-real-seal"}
        ok = CliRunner().invoke(cli, command, env={**base, **env, **keys}, catch_exceptions=False)
        assert ok.exit_code == 0, ok.output
        assert ok.stdout.startswith("sent=0")


def test_console_shows_sealed_deliveries_as_anonymous(world):
    from tests.test_admin import add_admin, login, make_app

    client, rt, _ = world
    say_wecom(client, REPORTER["userid"], "匿名反映 有领导公车私用情况严重")
    say_wecom(client, "sec", "回复 1 已转纪委核实")
    add_admin(rt)
    console = make_app(rt).test_client()
    assert login(console).status_code == 302
    for _ in range(2):  # in flight (encrypted), then sent (wiped)
        page = console.get("/admin/deliveries").get_data(as_text=True)
        assert "<td>匿名</td>" in page
        assert REPORTER["userid"] not in page
        assert "enc:" not in page
        outbox.Worker(rt, "w").drain()
    assert REPORTER["userid"] not in console.get("/admin/audit").get_data(as_text=True)


def test_ranking_shows_no_veto_no_band_and_no_erased_member(app_rt):
    from bot.services.points import core as pts
    from bot.services.roster.forget import forget_member

    client, rt = app_rt
    say_wecom(client, "sec", "开启排行")
    with rt.session() as s:
        people = {m.userid: m for m in s.exec(select(Member)).scalars()}
        for userid, n in (("m1", 5), ("m2", 3), ("sec", 1)):
            for _ in range(n):
                pts.award(s, rt.config, people[userid], "manual", on=clock.today(), reason="#1", source="t",
                          actor="cw", points=1)
        extra = Member(userid="leaver", name="离开者", branch_id=people["m1"].branch_id)
        s.add(extra)
        s.flush()
        pts.award(s, rt.config, extra, "manual", on=clock.today(), reason="#2", source="t", actor="cw", points=9)
        forget_member(s, "LEAVER", "test")
    assert "已对 党员乙" in say_wecom(client, "cw", "否决 m1 违反廉洁纪律")
    for viewer in ("m2", "sec", "m1"):
        board = say_wecom(client, viewer, "排行").splitlines()
        assert board[1:4] == ["1. 党员乙 105 分", "2. 党员丙 103 分", "3. 书记甲 101 分"], viewer
        text = "\n".join(board)
        assert "否决" not in text
        assert "已注销" not in text
        assert "档" not in text  # no band in the public board
    mine = say_wecom(client, "m1", "积分")
    assert "本年度已被一票否决" in mine  # the member sees their own veto
    assert "支部排名第 2 名" in say_wecom(client, "m2", "积分")  # the same rank as 排行 shows


SENTENCES = ["食堂饭菜太咸了希望改进", "有领导公车私用情况严重", "家中老人生病需要照顾", "全年帮扶两户困难群众",
             "今天学到了很多道理", "已转纪委核实处理", "积极参加义务劳动"]


def test_logs_carry_no_userid_name_or_message_text(world, caplog):
    from bot.logsafe import QueryStripFilter
    from tests.callbacks import event_xml, post_wecom

    client, rt, _ = world
    caplog.set_level(logging.DEBUG)
    who = REPORTER["userid"]
    say_wecom(client, "sec", "发布主题党日 2026-12-05 14:00 三楼会议室 学习党章")
    post_wecom(client, event_xml(who, "enter_agent"))
    for text in ("帮助", "学习", "打卡", f"反映 {SENTENCES[0]}", f"匿名反映 {SENTENCES[1]}", f"请假 {SENTENCES[2]}",
                 f"承诺 {SENTENCES[3]}", f"心得 {SENTENCES[4]}", "进度", "进度 2", "积分", "未知的命令文字"):
        say_wecom(client, who, text)
    for text in (f"回复 2 {SENTENCES[5]}", "办结 2 已处理", "定级 1 一般", f"加分 {who} 2 {SENTENCES[6]}",
                 "待审", "未学", "通过 3"):
        say_wecom(client, "sec", text)
    say_wecom(client, who, "不满意 2")
    slow_anonymous_report(rt, who, f"匿名反映 {SENTENCES[1]}再次")
    outbox.Worker(rt, "w").drain()
    assert "enqueued message" in caplog.text  # the logs are on
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in [who, REPORTER["name"], REPORTER["openid"], "书记甲", "党员乙", *SENTENCES]:
        assert secret not in logged, secret
    assert "SELECT" not in caplog.text  # no SQL (with rows and parameters) even at DEBUG
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, '"%s" %s %s',
                               ("GET /admin/members?q=吹哨人 HTTP/1.1", "200", "-"), None)
    QueryStripFilter().filter(record)
    assert record.getMessage() == '"GET /admin/members HTTP/1.1" 200 -'
