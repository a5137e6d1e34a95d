"""The command table (bot/router/table.py): every word → one handler and its roles, no word twice, longest
prefix wins over registration order, and the usage derived from a declaration."""

from __future__ import annotations

import pytest

from bot.router import SECRETARY_ROLES, DuplicateWord, Number, Router, Text, Who
from handlers import MODULES, build_router

S, C = tuple(SECRETARY_ROLES), ("committee",)
# word → (handler, roles): the whole chat vocabulary. A new word fails this test until it is listed here (and in
# tests/test_authz_matrix.py's COMMANDS).
TABLE = {
    "学习": ("today", ()), "已学": ("checkin", ()), "打卡": ("checkin", ()), "1": ("checkin", ()),
    "答": ("answer", ()), "心得": ("reflection", ()), "补签": ("makeup", ()),
    "统计": ("stats", S), "未学": ("missing", S),
    "参加": ("attend", ()), "请假": ("leave", ()), "签到": ("sign_in", ()), "销假": ("cancel_leave", ()),
    "发布主题党日": ("publish", S), "推迟": ("postpone", S), "取消": ("cancel", S), "签到码": ("code", S),
    "出勤": ("attendance", S), "补签到": ("manual_sign_in", S), "准假": ("excuse", S),
    "通知": ("folded", ()), "紧急通知": ("urgent", S),
    "反映": ("problem", ()), "建议": ("suggestion", ()), "匿名反映": ("anonymous", ()), "进度": ("progress", ()),
    "满意": ("satisfied", ()), "不满意": ("unsatisfied", ()),
    "定级": ("grade", S), "指派": ("assign", S), "回复": ("reply", S), "办结": ("close", S), "采纳": ("adopt", S),
    "积分": ("mine", ()), "我的积分": ("mine", ()), "积分明细": ("detail", ()), "排行": ("ranking", ()),
    "积分排行": ("ranking", ()), "开启排行": ("ranking_on", S), "关闭排行": ("ranking_off", S),
    "加分": ("add", S), "扣分": ("subtract", S), "否决": ("veto", C),
    "承诺": ("yearly", ()), "即时承诺": ("instant", ()), "我的承诺": ("mine", ()), "承诺公示": ("board", ()),
    "践诺": ("report_progress", ()),
    "自评": ("self_review", ()), "异议": ("dispute", ()), "裁定": ("ruling", C),
    "免打扰": ("dnd_on", ()), "取消免打扰": ("dnd_off", ()), "退订生日": ("optout", ()), "订阅生日": ("optin", ()),
    "帮助": ("show_help", ()), "help": ("show_help", ()), "菜单": ("show_help", ()), "?": ("show_help", ()),
    "？": ("show_help", ()), "下一页": ("next_page", ()), "绑定": ("bind", ()),
    "待审": ("pending", S), "通过": ("approve", S), "驳回": ("reject", S), "完成": ("complete", S),
}


def test_the_table_lists_every_word_with_its_handler_and_roles():
    table = build_router().table.words()
    assert {w: (c.name, c.roles) for w, c in table.items()} == TABLE


def test_a_word_claimed_twice_is_refused_when_the_router_is_built():
    router = build_router()
    with pytest.raises(DuplicateWord, match="签到"):
        router.command("签到", lambda ctx: "again")
    with pytest.raises(DuplicateWord, match="完成"):  # one 完成: it dispatches on the kind of number itself
        router.command(("结束", "完成"), lambda ctx: "again")
    assert "结束" not in router.table  # nothing of a refused command is kept
    twice = Router()
    for module in MODULES:
        module.register(twice)
    with pytest.raises(DuplicateWord):  # a module registered twice (or two modules claiming one word)
        MODULES[0].register(twice)


@pytest.mark.parametrize(("text", "handler", "word", "args"), [
    ("取消免打扰", "dnd_off", "取消免打扰", ""),  # not 取消 编号
    ("取消 12", "cancel", "取消", "12"),
    ("签到码", "code", "签到码", ""),
    ("签到码1296", "sign_in", "签到", "码1296"),  # a bare word with text is left to the shorter word
    ("签到1296", "sign_in", "签到", "1296"),
    ("补签到 #3 m2", "manual_sign_in", "补签到", "#3 m2"),  # not 补签
    ("补签 2026-11-23 出差", "makeup", "补签", "2026-11-23 出差"),
    ("承诺公示", "board", "承诺公示", ""),
    ("承诺公示全年走访二十户", "yearly", "承诺公示", "全年走访二十户"),  # a listing word with text is 承诺
    ("即时承诺:修好楼道灯", "instant", "即时承诺", "修好楼道灯"),
    ("答:汉书", "answer", "答", "汉书"),  # 「答：汉书」 after NFKC
    ("请假家中有事", "leave", "请假", "家中有事"),  # two characters may run on
    ("完成12", "complete", "完成", "12"),
    ("完成 #12 已谈心", "complete", "完成", "#12 已谈心"),
    ("HELP", "show_help", "help", ""),
    ("积分明细 2026-11", "detail", "积分明细", "2026-11"),
    ("不满意 3", "unsatisfied", "不满意", "3"),
])
def test_longest_fitting_word_wins(text, handler, word, args):
    found = build_router().table.match(text)
    assert found is not None, text
    assert (found.command.name, found.word, found.args) == (handler, word, args)


@pytest.mark.parametrize("text", ["答汉书", "完成了今天的学习", "学习一下", "积分多少", "出勤情况怎么样"])
def test_text_that_is_no_command(text):
    """One character needs a separator; 完成 runs on only into a number; a bare word stands alone."""
    assert build_router().table.match(text) is None


def test_usage_is_derived_from_the_declaration():
    router = Router()

    def give(ctx, number, member, reason):
        """给 编号 成员 原因 — 示例"""

    command = router.command("给", give, args=(Number(), Who(), Text("原因", "reason", optional=True)),
                             example="#3 张三 帮忙", note="成员写工号或姓名")
    assert command.synopsis == "给 编号 成员 [原因]"
    assert command.usage() == "格式：给 编号 成员 [原因]（成员写工号或姓名），例如「给 #3 张三 帮忙」。"
    assert command.help == "给 编号 成员 原因 — 示例"


def test_every_command_declares_its_arguments_or_takes_none():
    """No handler parses chat text itself: its arguments come typed from the declaration, so its usage reply is
    derived from the same declaration (a permit may peek at the number, as 回复 / 办结 do for the assignee)."""
    import inspect

    for command in build_router().table:
        assert command.bare or command.args is not None, command.word
        source = inspect.getsource(command.handler)
        for reads in ("ctx.args", "ctx.raw_args", "ctx.split("):
            assert reads not in source, (command.word, reads)


def test_anonymity_is_a_flag_of_the_route():
    """bot.inbound seals the sender of an anonymous command, also when its handler never ran (a failure)."""
    router = build_router()
    assert {w for c in router.table if c.anonymous for w in c.words} == {"匿名反映"}
    assert router.is_anonymous("匿名反映 食堂太贵")
    assert router.is_anonymous("匿名反映:食堂太贵")
    assert router.is_anonymous("@b1 匿名反映 食堂太贵")
    assert not router.is_anonymous("反映 食堂太贵")
    assert not router.is_anonymous("我想匿名反映")
