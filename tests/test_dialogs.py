"""Table-driven dialogs (Zulip's `verify_dialog`): who sends what → a substring the reply must hold (or must
not), or an effect on the database, all through signed WeCom callbacks on a fresh SQLite database per dialog.
They cover the chat vocabulary: run-on words and separators, longest-prefix clashes, 完成 on both kinds of
number, usage replies for arguments that do not fit, role refusals, and 帮助 / 帮助 <area> / 帮助 <command>.

A step is (userid, text, expected) or (userid, text, expected, name): `name` keeps the `#N` of the reply for
later steps' `{name}`. `expected` is a substring, `Not(substring)`, a tuple of them, or a callable on the
runtime for an effect (text None: nothing is sent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from bot.models import Member, Task
from bot.services import tasks
from tests.callbacks import WECOM, say_wecom
from tests.conftest import make_runtime
from tests.helpers import add_roster
from tests.study_helpers import add_items, item


@dataclass(frozen=True)
class Not:
    text: str


def _member(rt: Any, userid: str) -> Member:
    with rt.session() as s:
        return s.exec(select(Member).where(Member.userid == userid)).one()


def dnd(userid: str, on: bool) -> Callable[[Any], bool]:
    return lambda rt: _member(rt, userid).do_not_disturb is on


def task_done(rt: Any) -> bool:
    with rt.session() as s:
        return s.exec(select(Task)).one().status == "done"


SECRETARY_ONLY, COMMITTEE_ONLY = "仅限支部书记使用", "仅限党委委员使用"

DIALOGS: dict[str, list[tuple[Any, ...]]] = {
    "run-on words, separators and the longest word": [
        ("m1", "免打扰", "已开启免打扰"),
        ("m1", None, dnd("m1", True)),
        ("m1", "取消免打扰", "已取消免打扰"),  # not 取消 编号 (secretary only)
        ("m1", None, dnd("m1", False)),
        ("m1", "取消 1", SECRETARY_ONLY),
        ("m1", "学习", "史记"),
        ("m1", "答汉书", Not("回答正确")),  # one character needs a separator
        ("m1", "答：汉书", "回答正确"),
        ("m1", "反映：小区东门路灯坏了", "已收到您的反映", "ticket"),
        ("m1", "进度，{ticket}", "小区东门路灯坏了"),
        ("m1", "进度 abc", "格式：进度 [编号]（只发「进度」列出您反映过的问题），例如「进度 #12」"),
        ("m1", "异议 {ticket}", "格式：异议 编号 理由"),
        ("m1", "承诺公示", "还没有审核通过的承诺"),
        ("m1", "承诺公示全年走访困难党员二十户", ("年度承诺已提交", Not("公示"))),  # a listing word + text is 承诺
        ("m1", "请假家中有事", "没有"),  # 请假 runs on: no event yet, so it says so (not the fallback)
        ("m1", "签到码", SECRETARY_ONLY),
        ("m1", "签到码1234", Not(SECRETARY_ONLY)),  # 签到码 + 4 digits is 签到
    ],
    "theme day: longest prefix and usage": [
        ("sec", "发布主题党日：12月5日 下午2点半，会议室，学习党章", "已发布主题党日", "event"),
        ("sec", "推迟 {event}", "格式：推迟 编号 日期 时间"),
        ("sec", "推迟 {event} 12月8日 14:30 会议室", "格式：推迟"),  # text left over
        ("sec", "推迟 999 12月8日 14:30", "没有找到"),  # the shape is right: the number is looked up
        ("sec", "发布主题党日 会议室 12月5日 14:30 学习", "请先写日期再写时间"),
        ("sec", "补签到 {event} 党员乙", "还未开始签到"),  # 补签到 (by name), not 补签
        ("sec", "补签到", "格式：补签到 编号 成员，例如「补签到 #12 张三」"),
        ("sec", "准假 {event} m2", "格式：准假 编号 成员 原因"),
        ("m1", "补签 11月23日 出差在外", "不用补签"),  # 补签 (its date is read), not 补签到
        ("m1", "发布主题党日 12月6日 9点 会议室 学习", SECRETARY_ONLY),
        ("sec", "取消 #{event}", "已取消"),
    ],
    "完成 on a commitment and on a task": [
        ("m2", "承诺 全年参加志愿服务不少于四次", "年度承诺已提交", "commitment"),
        ("sec", "通过 #{commitment}", "已通过"),
        ("m1", "完成 #{commitment}", SECRETARY_ONLY),
        ("sec", "完成 #{commitment}", "已确认兑现"),
        ("sec", "完成", "未完成的任务 1 项"),
        ("sec", "完成{task}", "已完成销号"),  # a number may follow 完成 at once
        ("sec", None, task_done),
        ("sec", "完成 abc", "格式：完成 [编号] [说明]"),
        ("m1", "完成了今天的学习", Not(SECRETARY_ONLY)),  # free text, not 完成
    ],
    "arguments and role refusals": [
        ("sec", "加分 m1", "格式：加分 成员 分值 原因"),
        ("sec", "扣分 党员乙 -2 迟到", "分值写正数"),
        ("sec", "加分 党员乙 abc 帮扶", "分值须为"),
        ("sec", "加分 无此人 2 帮扶", "名册中没有「无此人」"),
        ("sec", "加分 党员乙 2 帮扶困难群众", "+2"),
        ("sec", "通过", "格式：通过 编号，例如「通过 #12」。"),
        ("sec", "通过 #999", "没有"),
        ("sec", "驳回 abc", "格式：驳回 编号 原因"),
        ("sec", "指派 abc m2", "格式：指派 编号 成员"),
        ("sec", "定级 1 特急", "格式：定级 编号 急难|重大|一般|萌芽"),
        ("m1", "通过 #1", SECRETARY_ONLY),
        ("m1", "统计", SECRETARY_ONLY),
        ("sec", "否决 m1 严重违纪", COMMITTEE_ONLY),
        ("sec", "@b1 统计", COMMITTEE_ONLY),
        ("cw", "否决 m1", "格式：否决 成员 原因"),
        ("cw", "@b1 统计", Not(COMMITTEE_ONLY)),
    ],
    "member commands: usage from the declaration, then a normal use": [
        ("m1", "学习", "史记"),
        ("m1", "答", "格式：答 答案，例如「答 汉书」。"),
        ("m1", "答 汉书", "回答正确"),
        ("m1", "心得", "格式：心得 文字，例如「心得 "),
        ("m1", "心得：今天学习了前四史，要把学到的用到工作中", "学习心得已保存"),
        ("m1", "补签", "格式：补签 日期 原因（日期可写 11月23日、2026-11-23、昨天）"),
        ("m1", "补签 11月23日", "格式：补签 日期 原因"),  # the reason is needed
        ("m1", "补签 2月30日 出差", ("没有「2月30日」这一天", "格式：补签 日期 原因")),  # why, then the usage
        ("m1", "补签，11月23日，出差在外", "不用补签"),  # a date without a year: the latest one before today
        ("m1", "积分明细 2026-13",
         "格式：积分明细 [年-月]（不写年月查看本月；也可写 2026年11月），例如「积分明细 2026-11」"),
        ("m1", "积分明细 2025年3月", "2025 年 3 月没有积分记录"),
        ("m1", "积分明细", "2026 年 11 月积分明细"),  # this month: the answer and the reflection above
        ("m1", "反映 路灯", "格式：反映 内容（至少 4 个字），例如「反映 车间东门照明坏了一周」"),
        ("m1", "建议", "格式：建议 内容（至少 4 个字）"),
        ("m1", "建议，多组织读书活动", "已收到您的建议"),
        ("m1", "匿名反映 太贵", "格式：匿名反映 内容（至少 4 个字；不会记录或显示您的身份）"),
        ("m1", "匿名反映：食堂饭菜太贵了", "已匿名收到您的反映"),
        ("m1", "反映：楼道灯坏了一周", "已收到您的反映", "ticket"),
        ("sec", "指派 {ticket} 党员丙", "已指派给 党员丙"),
        ("m2", "办结：#{ticket}，灯已换好", "已办结"),  # the assignee, with Chinese separators
        ("m1", "承诺 好", "格式：承诺 内容（写可衡量的内容，至少 4 个字），例如「承诺 全年帮扶 2 名困难群众」"),
        ("m1", "即时承诺", "格式：即时承诺 内容（至少 4 个字），例如「即时承诺 本周修好楼道灯」"),
        ("m1", "即时承诺：本周修好楼道灯", "即时承诺已提交"),
        ("m1", "自评 很好", "格式：自评 文字（至少 10 个字，写明本半年度学习、工作、作风等方面的表现）"),
        ("m1", "自评 本半年度按时参加组织生活，认真学习党的理论，完成岗位任务。", "自评已提交"),
        ("m1", "请假", "格式：请假 原因（说明原因，书记审批后生效），例如「请假 出差在外」"),
        ("m1", "签到", "格式：签到 签到码（4 位数字，由支部书记在现场或线上会议中公布），例如「签到 1296」"),
        ("m1", "签到 12", "格式：签到 签到码"),
        ("m1", "签到：1234", "现在没有可以签到的主题党日"),  # four digits reach the service
        ("m1", "签到码 1234", "现在没有可以签到的主题党日"),  # 签到码 + 4 digits is 签到
        ("m1", "绑定", "格式：绑定 工号 手机后四位，例如「绑定 zhangwei 1234」"),
        ("m1", "绑定 m1 1234", "绑定只用于公众号"),
        ("sec", "发布主题党日 12月5日 下午2点半 会议室 学习党章", "已发布主题党日"),
        ("m2", "请假：家中老人住院", "请假申请已提交"),
    ],
    "裁定: the outcome decides whether a conclusion is taken": [
        ("cw", "裁定", "格式：裁定 编号 维持|修改 [结论] 说明（修改时先写新结论再写说明，维持时不写结论），"
                       "例如「裁定 #21 修改 基本合格 帮扶情况经核实只有一户」"),
        ("cw", "裁定 21 撤销 不成立", "格式：裁定"),
        ("cw", "裁定 21 修改 基本合格", "格式：裁定"),  # 修改 needs the conclusion and the explanation
        ("cw", "裁定 #999 维持 经核实情况属实", "没有找到编号 #999 的评价"),
        ("cw", "裁定 #999 修改 基本合格 帮扶只有一户", "没有找到编号 #999 的评价"),
        ("sec", "裁定 #999 维持 经核实情况属实", COMMITTEE_ONLY),
    ],
    "帮助, 帮助 <area>, 帮助 <command>": [
        ("m1", "帮助", ("可用指令（党员）", "学习", "请假", "反映", "积分", "免打扰", "主题党日", Not("统计"),
                        Not("支部管理"), Not("@支部编码"))),
        ("m1", "HELP", "可用指令（党员）"),
        ("m1", "帮助 主题党日", ("主题党日类指令", "\n· 请假 原因", Not("发布主题党日"))),
        ("m1", "帮助 补签", ("补签 YYYY-MM-DD 原因", Not("补签到"))),
        ("m1", "帮助 统计", "没有找到「统计」"),
        ("m1", "帮助 下一页", "10 分钟内有效"),
        ("sec", "帮助", ("可用指令（支部书记）", "支部管理", Not("党委"), Not("@支部编码"))),
        ("sec", "帮助 支部管理", ("\n· 统计", "\n· 通过 编号", "\n· 加分 成员 分值 原因", Not("否决"))),
        ("sec", "帮助 指派", ("指派 编号 成员 — ", "格式：指派 编号 成员", "例如「指派 #12 张三」")),
        ("sec", "帮助 主题党日", ("\n· 发布主题党日", "\n· 补签到 编号 成员", "\n· 请假 原因")),
        ("cw", "帮助", ("可用指令（党委委员）", "党委",
                        "在命令前加 @支部编码 可替其他支部操作，如 @A01 统计")),
        ("cw", "帮助 党委", "否决 成员 原因"),
        ("m1", "帮助 党委", "没有找到"),
    ],
}


@pytest.fixture
def dialog_app(sqlite_url):
    rt = make_runtime(sqlite_url, wecom=WECOM)
    add_roster(rt)
    add_items(rt, item("a1", question="《史记》之后的第一部纪传体断代史是？", answer="汉书"))
    from bot.web import build_app

    yield build_app(runtime=rt).test_client(), rt
    rt.close()


def _check(reply: str, expected: Any, step: tuple[Any, ...]) -> None:
    for want in expected if isinstance(expected, tuple) else (expected,):
        if isinstance(want, Not):
            assert want.text not in reply, (step, reply)
        else:
            assert want in reply, (step, reply)


@pytest.mark.parametrize("name", list(DIALOGS))
def test_dialog(dialog_app, name):
    client, rt = dialog_app
    if name.startswith("完成"):  # a follow-up task for the secretary to close
        with rt.write() as s:
            m1 = s.exec(select(Member).where(Member.userid == "m1")).one()
            task, _ = tasks.create(s, rt.config, key="talk:m1", kind="talk", branch_id=m1.branch_id, member=m1,
                                   summary="与党员乙谈心谈话")
            numbers = {"task": task.number}
    else:
        numbers = {}
    for step in DIALOGS[name]:
        userid, text, expected, *keep = step
        if text is None:
            assert expected(rt), step
            continue
        reply = say_wecom(client, userid, text.format(**numbers))
        _check(reply, expected, step)
        if keep:
            found = re.search(r"#(\d+)", reply)
            assert found, (step, reply)
            numbers[keep[0]] = int(found.group(1))
