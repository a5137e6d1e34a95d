"""Authorization matrix: every chat command word × every role, and every console endpoint × every console role.

The tables below are explicit on purpose: their keys must equal what the router and the Flask url_map
actually hold, so a new command or page without an entry here fails `test_*_table_covers_*`.

Chat cases go through the real pipeline (`bot.inbound.handle`, what callbacks and `dangjian say` use), each
on a fresh copy of one prepared SQLite database: branch b1 (secretary, deputy, members) with a theme day,
a pending leave, a ticket, a suggestion, an approved commitment and a disputed review; branch b2 with its own
secretary; a committee member; a stranger. A refused case must answer the refusal text and change no row anywhere (the
inbound log row aside); an allowed case must not be refused, and a command that acts must have acted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (fills SQLModel.metadata)
from bot import clock, db, inbound, texts
from bot.message import InboundMessage
from bot.models import Branch, Member, ThemeDay
from bot.models import InboundMessage as InboundRow
from bot.router import SECRETARY_ROLES, Router, role_label
from bot.services import reviews
from handlers import build_router
from handlers.general import AREAS
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster

ANY, SECRETARY, COMMITTEE, STRANGERS = "any", "secretary", "committee", "strangers"
ROUTE_ROLES = {ANY: (), SECRETARY: tuple(SECRETARY_ROLES), COMMITTEE: ("committee",), STRANGERS: ()}


@dataclass(frozen=True)
class Command:
    who: str  # ANY / SECRETARY / COMMITTEE / STRANGERS (anyone, even off the roster)
    args: str = ""  # realistic arguments; {event} {leave} {ticket} {suggestion} {commitment} {review} are b1's
    acts: bool = False  # when allowed on b1's objects, it must change something
    b1_objects: bool = False  # acts on branch b1's objects: a secretary of b2 must be refused, nothing changed


# Every command word the router knows → who may run it (CONTRACT.md, Chat).
COMMANDS: dict[str, Command] = {
    # general, preferences, binding
    "帮助": Command(ANY), "help": Command(ANY), "?": Command(ANY), "？": Command(ANY), "菜单": Command(ANY),
    "下一页": Command(ANY),
    "免打扰": Command(ANY), "取消免打扰": Command(ANY),
    "通知": Command(ANY), "紧急通知": Command(SECRETARY, "今晚八点前请回复是否参加明日防汛值守", acts=True),
    "绑定": Command(STRANGERS, "m1 1234"),
    # study
    "学习": Command(ANY), "已学": Command(ANY), "打卡": Command(ANY), "1": Command(ANY),
    "答": Command(ANY, "北京"), "心得": Command(ANY, "今天学习了党章，收获很大"),
    "补签": Command(ANY, "2026-11-24 出差在外"),
    "统计": Command(SECRETARY), "未学": Command(SECRETARY),
    # approvals
    "待审": Command(SECRETARY),
    "通过": Command(SECRETARY, "#{leave}", acts=True, b1_objects=True),
    "驳回": Command(SECRETARY, "#{leave} 理由不充分", acts=True, b1_objects=True),
    # points
    "积分": Command(ANY), "我的积分": Command(ANY), "积分明细": Command(ANY, "2026-11"),
    "排行": Command(ANY), "积分排行": Command(ANY),
    "开启排行": Command(SECRETARY, acts=True), "关闭排行": Command(SECRETARY),
    "加分": Command(SECRETARY, "m1 2 主动帮扶困难群众", acts=True, b1_objects=True),
    "扣分": Command(SECRETARY, "m1 2 无故缺席支部会议", acts=True, b1_objects=True),
    "否决": Command(COMMITTEE, "m1 严重违反组织纪律", acts=True),
    # theme day
    "参加": Command(ANY), "请假": Command(ANY, "家中有事"), "签到": Command(ANY, "1234"),
    "签到码": Command(SECRETARY),
    "发布主题党日": Command(SECRETARY, "2026-12-10 14:00 会议室 学习新党章", acts=True),
    "推迟": Command(SECRETARY, "#{event} 2026-12-06 15:00", acts=True, b1_objects=True),
    "取消": Command(SECRETARY, "#{event}", acts=True, b1_objects=True),
    "出勤": Command(SECRETARY),
    # b1's event is days ahead: 补签到 answers that sign-in has not opened (acting: test_attendance_corrections)
    "补签到": Command(SECRETARY, "#{event} m2", b1_objects=True),
    "准假": Command(SECRETARY, "#{event} m2 临时出差", acts=True, b1_objects=True),
    "销假": Command(ANY),
    # tickets
    "匿名反映": Command(ANY, "食堂卫生需要改进一下"), "反映": Command(ANY, "办公区路灯坏了好几天"),
    "建议": Command(ANY, "增加图书角的书籍种类"), "进度": Command(ANY, "#{ticket}"),
    "满意": Command(ANY, "#{ticket}"), "不满意": Command(ANY, "#{ticket}"),
    "定级": Command(SECRETARY, "#{ticket} 一般", acts=True, b1_objects=True),
    "指派": Command(SECRETARY, "#{ticket} m2", acts=True, b1_objects=True),
    "回复": Command(SECRETARY, "#{ticket} 已联系后勤处理", acts=True, b1_objects=True),
    "办结": Command(SECRETARY, "#{ticket} 路灯已修复", acts=True, b1_objects=True),
    "采纳": Command(SECRETARY, "#{suggestion}", acts=True, b1_objects=True),
    # commitments, reviews, birthday
    "即时承诺": Command(ANY, "本周帮助社区清理楼道"), "承诺": Command(ANY, "全年参加志愿服务不少于四次"),
    "我的承诺": Command(ANY), "承诺公示": Command(ANY), "践诺": Command(ANY, "#{commitment} 已走访两户"),
    "完成": Command(SECRETARY, "#{commitment}", acts=True, b1_objects=True),
    "自评": Command(ANY, "本半年认真学习按时参加组织生活积极完成任务"),
    "异议": Command(ANY, "#{ticket} 评价与事实不符"),
    "裁定": Command(COMMITTEE, "#{review} 修改 基本合格 经核实帮扶只有一户", acts=True),
    "退订生日": Command(ANY), "订阅生日": Command(ANY),
}

# Who sends, and how: (userid, text prefix). `cw@b1` is the committee member choosing branch b1 with `@b1`;
# `sec@b2` is a secretary trying the committee's prefix.
ROLES = {
    "member": ("m1", ""), "secretary": ("sec", ""), "deputy": ("dep", ""), "other_secretary": ("sec2", ""),
    "committee": ("cw", ""), "committee@b1": ("cw", "@b1 "), "secretary@b2": ("sec", "@b2 "),
    "stranger": ("nobody", ""),
}
B1_ACTORS = ("secretary", "deputy", "committee", "committee@b1")  # may act on b1's objects
COMMITTEE_ONLY = texts.t("role.needed", role=role_label("committee"))
NOT_MEMBER = texts.t("roster.not_member")
REFUSALS = {texts.t("role.secretary_only"), NOT_MEMBER, texts.t("roster.not_member_oa"),
            *(texts.t("role.needed", role=label) for label in set(texts.labels("role").values()))}


def router_words(router: Router) -> dict[str, tuple[str, ...]]:
    """Every command word of the command table → the roles of its one command (a word is claimed once; the
    assignee's own-ticket 回复/办结 is a `permit` on the secretaries' command, not a role)."""
    return {word: command.roles for word, command in router.table.words().items()}


def expected(word: str, role: str) -> str:
    """'allowed', 'cross' (allowed by role, but b1's objects are not theirs) or the refusal text."""
    command = COMMANDS[word]
    if role == "stranger":
        return "allowed" if command.who == STRANGERS else NOT_MEMBER
    if role == "secretary@b2":
        return COMMITTEE_ONLY
    if command.who == SECRETARY and role == "member":
        return texts.t("role.secretary_only")
    if command.who == COMMITTEE and role not in ("committee", "committee@b1"):
        return COMMITTEE_ONLY
    if command.b1_objects and role == "other_secretary":
        return "cross"
    return "allowed"


_ids = itertools.count(1)


def say(runtime: Any, router: Router, userid: str, body: str) -> str:
    msg = InboundMessage(channel="wecom", sender=userid, msg_type="text", text=body, msg_id=f"authz-{next(_ids)}",
                         create_time=clock.timestamp())
    reply = inbound.handle(runtime, router, msg)
    return reply.text if reply is not None else ""


def number_in(reply: str) -> int:
    found = re.search(r"#(\d+)", reply)
    assert found, reply
    return int(found.group(1))


def snapshot(runtime: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the inbound log (which records each message, refused or not)."""
    with runtime.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
                for t in SQLModel.metadata.sorted_tables if t.name != InboundRow.__tablename__}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One SQLite file with the roster and b1's objects, made through chat; each case runs on a copy."""
    clock.configure("Asia/Shanghai", DEFAULT_NOW)
    path = tmp_path_factory.mktemp("authz") / "template.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    runtime = make_runtime(url)
    add_roster(runtime)
    with runtime.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).scalar_one()
        top = s.exec(select(Branch).where(Branch.code == "dw")).scalar_one()
        b2 = Branch(code="b2", name="第二党支部", parent_id=top.id)
        s.add(b2)
        s.flush()
        s.add_all([Member(userid="dep", name="副书记己", branch_id=b1.id, roles="member;deputy"),
                   Member(userid="sec2", name="书记庚", branch_id=b2.id, roles="member;secretary"),
                   Member(userid="m3", name="党员辛", branch_id=b2.id)])
    router = build_router()
    numbers = {
        "event": number_in(say(runtime, router, "sec", "发布主题党日 2026-12-05 14:00 会议室 学习党章")),
        "leave": number_in(say(runtime, router, "m1", "请假 家中有事")),
        "ticket": number_in(say(runtime, router, "m1", "反映 办公区路灯坏了好几天")),
        "suggestion": number_in(say(runtime, router, "m1", "建议 增加图书角的书籍种类")),
        "commitment": number_in(say(runtime, router, "m2", "承诺 全年参加志愿服务不少于四次")),
    }
    assert "已通过" in say(runtime, router, "sec", f"通过 #{numbers['commitment']}")
    numbers["review"] = number_in(say(runtime, router, "m2", "自评 本半年认真学习按时参加组织生活积极完成任务"))
    assert "已通过" in say(runtime, router, "sec", f"通过 #{numbers['review']}")
    assert "已记录" in say(runtime, router, "m1", f"异议 #{numbers['review']} 与事实不符")
    with runtime.session() as s:  # the notice ended: held as disputed, for 裁定
        assert reviews.finalise(s, runtime.config, clock.today() + dt.timedelta(days=30)) == (0, 1)
    runtime.close()
    return {"path": path, "numbers": numbers, "router": router}


@pytest.fixture(scope="module")
def case_runtime(prepared: dict[str, Any]) -> Iterator[Any]:
    """One runtime (its engine's statement cache warm) on the database every case restores first."""
    runtime = make_runtime(f"sqlite:///{prepared['path'].with_name('case.db')}")
    yield runtime
    runtime.close()


@pytest.fixture
def fresh(prepared: dict[str, Any], case_runtime: Any) -> Callable[[], Any]:
    """Returns the case runtime after restoring its database to the prepared state (SQLite backup API)."""

    def restore() -> Any:
        restore_sqlite(case_runtime, prepared["path"])
        return case_runtime

    return restore


def restore_sqlite(runtime: Any, template: Path) -> None:
    """Overwrite the runtime's SQLite database with the template's pages (the engine stays warm)."""
    clock.freeze(DEFAULT_NOW)
    source = sqlite3.connect(template)
    target = runtime.engine.raw_connection()
    try:
        source.backup(target.driver_connection)
    finally:
        target.close()
        source.close()


def test_chat_table_covers_every_router_word():
    words = router_words(build_router())
    assert set(COMMANDS) == set(words), ("add the new command to COMMANDS", set(words) ^ set(COMMANDS))
    for word, roles in words.items():
        assert set(roles) == set(ROUTE_ROLES[COMMANDS[word].who]), (word, roles)


def test_only_the_binding_route_serves_strangers():
    strangers = {w for command in build_router().table if command.strangers for w in command.words}
    assert strangers == {w for w, c in COMMANDS.items() if c.who == STRANGERS}


def check(runtime: Any, prepared: dict[str, Any], word: str, role: str) -> str | None:
    """None when the case behaves as the matrix says, else what went wrong."""
    command = COMMANDS[word]
    userid, prefix = ROLES[role]
    body = f"{prefix}{word} {command.args.format(**prepared['numbers'])}".strip()
    before = snapshot(runtime)
    reply = say(runtime, prepared["router"], userid, body)
    changed = snapshot(runtime) != before
    outcome = expected(word, role)
    if outcome == "allowed":
        if not reply or reply in REFUSALS:
            return f"{role}: {body!r} should be allowed, got {reply!r}"
        if command.acts and role in B1_ACTORS and not changed:
            return f"{role}: {body!r} should have acted, got {reply!r}"
    elif outcome == "cross":
        if reply in REFUSALS or changed:
            return f"{role}: {body!r} on b1's objects must be refused without effect, got {reply!r}"
    elif reply != outcome or changed:
        return f"{role}: {body!r} should be refused with {outcome!r} and no effect, got {reply!r} (changed={changed})"
    return None


@pytest.mark.parametrize("word", list(COMMANDS))
def test_chat_command_by_every_role(prepared, fresh, word):
    """One word, every role, each on a fresh copy of the database; every wrong cell is reported."""
    wrong = [problem for role in ROLES if (problem := check(fresh(), prepared, word, role))]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ["member", "secretary", "other_secretary", "committee"])
def test_help_never_lists_a_command_the_sender_cannot_run(prepared, fresh, role):
    """帮助, 帮助 <area> for every area and 帮助 <word> for every word: no help line of a command the sender may
    not run."""
    runtime, router = fresh(), prepared["router"]
    userid = ROLES[role][0]
    with runtime.session() as s:
        member = s.exec(select(Member).where(Member.userid == userid)).scalar_one()
        shown = {help_command(c.help) for c in router.commands(member)}
        hidden = {help_command(c.help) for c in router.commands(everyone=True)} - shown
    assert hidden or role == "committee"
    wrong = []
    for body in ["帮助", *(f"帮助 {area}" for area in AREAS), *(f"帮助 {word}" for word in COMMANDS)]:
        reply = say(runtime, router, userid, body)
        items = {help_command(piece) for line in reply.splitlines() for piece in line.split("、")}
        wrong += [f"{body!r} lists {command!r}" for command in hidden & items]
    assert not wrong, "\n".join(wrong)


def help_command(line: str) -> str:
    """The command part of a help line, full ("· 加分 userid 分值 原因 — …") or compact ("加分 userid 分值 原因")."""
    return line.strip().removeprefix("·").split(" — ", 1)[0].strip()


def test_other_branch_secretary_never_sees_a_b1_reporter(prepared, fresh):
    """进度 N on another branch's ticket answers without the handler view (reporter's name)."""
    ticket, runtime = prepared["numbers"]["ticket"], fresh()
    assert "党员乙" in say(runtime, prepared["router"], "sec", f"进度 #{ticket}")  # the handler view names them
    assert "党员乙" not in say(runtime, prepared["router"], "sec2", f"进度 #{ticket}")


def test_prepared_objects_belong_to_b1(prepared, fresh):
    with fresh().session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).scalar_one()
        event = s.exec(select(ThemeDay).where(ThemeDay.number == prepared["numbers"]["event"])).scalar_one()
        assert event.branch_id == b1.id


def test_secretary_cannot_assign_a_ticket_outside_the_branch(prepared, fresh):
    runtime, ticket = fresh(), prepared["numbers"]["ticket"]
    before = snapshot(runtime)
    say(runtime, prepared["router"], "sec", f"指派 #{ticket} m3")  # m3 is in b2
    assert snapshot(runtime) == before
