"""`dangjian forget` (CONTRACT.md "Privacy"): a member active in every area leaves no row holding their userid
(in any case), name, phone or their own sentences; sealed reports stay out of reach; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

from sqlmodel import select

from bot.models import Branch, Member, Ticket
from bot.services.study import push as study_push
from bot.web import build_app
from tests.callbacks import WECOM, say_wecom
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster
from tests.study_helpers import add_items, item
from tests.test_privacy import dump

USERID, NAME, PHONE, OPENID = "active.member", "积极分子", "13700001111", "oActiveOpenId77"
WORDS = {
    "answer": "答 坚持党的全面领导",
    "reflection": "心得 今天学到了为人民服务的真谛",
    "leave": "请假 孩子发烧需要去医院",
    "commitment": "承诺 全年帮扶三户困难群众",
    "problem": "反映 小区门口路灯坏了很久",
    "suggestion": "建议 增加周末读书分享活动",
    "review": "自评 上半年按时参加组织生活",
}
OWN = ["坚持党的全面领导", "今天学到了为人民服务的真谛", "孩子发烧需要去医院", "全年帮扶三户困难群众",
       "小区门口路灯坏了很久", "增加周末读书分享活动", "上半年按时参加组织生活", "走访了第一户困难群众"]


def test_forget_leaves_no_trace_anywhere(backend):
    rt = make_runtime(backend, wecom=WECOM, points={"ranking": True})
    add_roster(rt)
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one()
        s.add(Member(userid=USERID, name=NAME, phone=PHONE, openid=OPENID, branch_id=b1.id,
                     joined_on=dt.date(2015, 7, 1)))
    add_items(rt, item("q1", question="我们党的最本质特征是什么？", answer="党的领导"))
    with rt.session() as s:
        study_push.morning(s, rt.config, DEFAULT_NOW.date())  # today's item reached them: 答 is stored
    client = build_app(runtime=rt).test_client()
    me = "Active.Member"  # the platform may send another case
    replies = {}
    say_wecom(client, "sec", "发布主题党日 2026-12-05 14:00 三楼会议室 学习党章")
    for key, text in WORDS.items():
        replies[key] = say_wecom(client, me, text)
    replies["anonymous"] = say_wecom(client, me, "匿名反映 有人长期占用公共车位")
    say_wecom(client, "m2", f"反映 {NAME}经常帮助大家应该表扬")  # another member's message naming them
    say_wecom(client, "sec", f"加分 {USERID} 2 {NAME}组织义务劳动")  # the secretary's reason names them
    say_wecom(client, "sec", "待审")
    numbers = {}
    with rt.session() as s:
        for t in s.exec(select(Ticket)):
            numbers[t.text[:4]] = t.number
    problem = numbers["小区门口"]
    say_wecom(client, "sec", f"指派 {problem} {USERID}")
    say_wecom(client, "sec", f"回复 {problem} 已联系物业")
    say_wecom(client, "sec", f"办结 {problem} 已修好")
    say_wecom(client, me, f"满意 {problem}")
    commitment = int(re.search(r"#(\d+)", replies["commitment"]).group(1))
    say_wecom(client, "sec", f"通过 {commitment}")
    say_wecom(client, me, f"践诺 {commitment} 走访了第一户困难群众")
    say_wecom(client, "cw", f"否决 {USERID} 多次无故缺席")
    say_wecom(client, "m2", "排行")
    before = " ".join(str(v) for _, _, v, _ in dump(rt) if isinstance(v, str))
    missing = [w for w in [USERID, NAME, *OWN] if w not in before]
    assert missing == []  # the member really is everywhere
    # a fresh process, as an operator runs it: every hook must be there without this test's imports
    env = {**os.environ, "DANGJIAN_DATABASE_URL": backend, "DANGJIAN_NOW": DEFAULT_NOW.isoformat()}
    env.pop("DANGJIAN_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "bot", "forget", "ACTIVE.member"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    counts = dict(line.split("=", 1) for line in lines[1:])
    assert counts["member"] == "1"
    for table in ("inbound_message", "audit_log", "outbound_message", "approval", "ledger_entry", "ticket"):
        assert int(counts[table]) >= 1, (table, lines)
    leaks = []
    secrets = [USERID, NAME, PHONE, OPENID, *OWN]
    for table, column, value, _row in dump(rt):
        if isinstance(value, str) and any(s.lower() in value.lower() for s in secrets):
            leaks.append(f"{table}.{column}: {value!r}")
    assert leaks == [], "\n".join(leaks)
    with rt.session() as s:  # the sealed report is out of reach by design: its text stays
        assert s.exec(select(Ticket).where(Ticket.anonymous)).one().text == "有人长期占用公共车位"
    assert "已注销" not in say_wecom(client, "m2", "排行")
    rt.close()
