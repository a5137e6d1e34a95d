"""The points engine on SQLite and PostgreSQL: caps, exemptions, veto, bands, manual adjustments."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.models import Approval, AuditLog, Branch, LedgerEntry, Member
from bot.services import approvals
from bot.services.points import admin as points_admin
from bot.services.points import core as pts
from bot.services.points import ranking
from tests.conftest import make_runtime
from tests.helpers import add_roster

DAY = dt.date(2026, 11, 25)


def get(s, userid: str) -> Member:
    return s.exec(select(Member).where(Member.userid == userid)).one()


def test_daily_cap_clips_and_records_zero_with_reason(rt):
    add_roster(rt)
    with rt.session() as s:
        m1 = get(s, "m1")
        first = pts.award(s, rt.config, m1, "study_checkin", on=DAY, reason="晨学", source="study:1")
        second = pts.award(s, rt.config, m1, "study_checkin", on=DAY, reason="晨学", source="study:1")
        other_day = pts.award(s, rt.config, m1, "study_checkin", on=DAY - dt.timedelta(days=1), reason="晨学",
                              source="study:0")
    assert (first.points, second.points, other_day.points) == (1, 0, 1)
    assert second.reason == "超出每日上限：晨学"
    with rt.session() as s:
        rows = pts.entries(s, get(s, "m1"), 2026)
        assert [r.points for r in rows] == [1, 1, 0]
        assert pts.total(s, rt.config, get(s, "m1"), 2026) == 100 + 2  # the base + the year's entries
        assert rows[-1].period == DAY
        assert rows[-1].year == 2026
        assert rows[-1].category == "study"


def test_monthly_cap_counts_the_month_of_the_act(rt):
    add_roster(rt)
    with rt.session() as s:
        m1 = get(s, "m1")
        got = [pts.award(s, rt.config, m1, "problem_reported", on=dt.date(2026, 11, d), reason="反映",
                         source="ticket").points for d in (2, 3, 4, 5)]
        december = pts.award(s, rt.config, m1, "problem_reported", on=dt.date(2026, 12, 1), reason="反映",
                             source="ticket")
        # an act dated in October still has October's room, whenever it is recorded
        october = pts.award(s, rt.config, m1, "problem_reported", on=dt.date(2026, 10, 31), reason="反映",
                            source="ticket")
        last = pts.entries(s, m1, 2026)
    assert got == [1, 1, 1, 0]
    assert (december.points, october.points) == (1, 1)
    assert [e.reason for e in last if e.points == 0] == ["超出每月上限：反映"]


def test_category_cap_of_the_annual_scheme(backend):
    rt = make_runtime(backend, points={"category_caps": {"study": 3}})
    add_roster(rt)
    with rt.session() as s:
        m1 = get(s, "m1")
        got = [pts.award(s, rt.config, m1, rule, on=DAY - dt.timedelta(days=d), reason="学习", source="t").points
               for d, rule in ((0, "study_checkin"), (0, "study_answer"), (1, "study_checkin"),
                               (1, "reflection"), (2, "study_checkin"))]
        assert got == [1, 1, 1, 0, 0]
        zero = [e.reason for e in pts.entries(s, m1, 2026) if e.points == 0]
        assert zero == ["超出本类年度上限：学习"] * 2
        # a deduction in the category is not limited by the cap on additions
        assert pts.award(s, rt.config, m1, "manual", on=DAY, reason="更正", source="t", points=-1).points == -1
        assert pts.award(s, rt.config, m1, "theme_day_attend", on=DAY, reason="主题党日", source="t").points == 5
        assert pts.total(s, rt.config, m1, 2026) == 100 + 7
    rt.close()


def test_bad_category_caps_name_the_key():
    from bot.config import ConfigError
    from tests.conftest import make_config

    with pytest.raises(ConfigError, match=r"\[points\] category_caps"):
        make_config(points={"category_caps": {"study": -1}})


def test_cap_clips_partially_and_bounds_deductions(backend):
    rules = {"big": {"points": 3, "category": "participation", "monthly_cap": 4},
             "fine": {"points": -2, "category": "attendance", "yearly_cap": 3}}
    rt = make_runtime(backend, points={"rules": rules})
    add_roster(rt)
    with rt.session() as s:
        m1 = get(s, "m1")
        a = pts.award(s, rt.config, m1, "big", on=DAY, reason="x", source="t")
        b = pts.award(s, rt.config, m1, "big", on=DAY, reason="x", source="t")
        f1 = pts.award(s, rt.config, m1, "fine", on=DAY, reason="迟到", source="t")
        f2 = pts.award(s, rt.config, m1, "fine", on=DAY, reason="迟到", source="t")
        f3 = pts.award(s, rt.config, m1, "fine", on=DAY, reason="迟到", source="t")
    rt.close()
    assert (a.points, b.points) == (3, 1)
    assert "部分超出每月上限" in b.reason
    assert "+3" in b.reason
    assert (f1.points, f2.points, f3.points) == (-2, -1, 0)
    assert f3.reason == "超出每年上限：迟到"


def test_exempt_member_type_gets_a_zero_entry_saying_so(backend):
    rt = make_runtime(backend, points={"rules": {"theme_day_absent": {"exempt_types": ["retired", "frail"]}}})
    add_roster(rt)
    with rt.session() as s:
        m2 = get(s, "m2")  # retired
        entry = pts.award(s, rt.config, m2, "theme_day_absent", on=DAY, reason="11月主题党日", source="event:1")
        m1_entry = pts.award(s, rt.config, get(s, "m1"), "theme_day_absent", on=DAY, reason="11月主题党日",
                             source="event:1")
    rt.close()
    assert entry.points == 0
    assert entry.reason == "退休党员免于此项：11月主题党日"
    assert m1_entry.points == -5


def test_unknown_rule_is_an_error(rt):
    add_roster(rt)
    with rt.session() as s, pytest.raises(pts.UnknownRule):
        pts.award(s, rt.config, get(s, "m1"), "no_such_rule", on=DAY, reason="x", source="t")


def test_veto_makes_unqualified_and_keeps_entries(backend):
    rt = make_runtime(backend, points={"base": 100})
    add_roster(rt)
    with rt.session() as s:
        m1, cw, sec = get(s, "m1"), get(s, "cw"), get(s, "sec")
        pts.award(s, rt.config, m1, "theme_day_attend", on=DAY, reason="参加", source="event:1")
        with pytest.raises(pts.PointsError, match="仅限党委委员"):
            points_admin.veto(s, rt.config, sec, m1, "违纪")
        with pytest.raises(pts.PointsError):
            points_admin.veto(s, rt.config, cw, m1, "  ")
        with pytest.raises(pts.PointsError):
            points_admin.veto(s, rt.config, cw, cw, "自己")
        points_admin.veto(s, rt.config, cw, m1, "违反廉洁纪律")
        with pytest.raises(pts.PointsError, match="已被否决"):
            points_admin.veto(s, rt.config, cw, m1, "再次")
    with rt.session() as s:
        m1 = get(s, "m1")
        row = ranking.standing_of(s, rt.config, m1, 2026)
        assert (row.total, row.vetoed, row.status, row.band) == (105, True, "unqualified", "D")
        assert len(pts.entries(s, m1, 2026)) == 1
        lines = pts.explain(s, rt.config, m1, 2026)
        assert lines[0] == "2026 年基础分 100"
        assert "一票否决：违反廉洁纪律（cw）" in lines
        assert lines[-1] == "合计 105 分"
        assert s.exec(select(AuditLog).where(AuditLog.action == "points_veto")).one().target == "m1"
    rt.close()


def _branch_of(rt, code: str, totals: list[int]) -> None:
    with rt.session() as s:
        b = Branch(code=code, name=code)
        s.add(b)
        s.flush()
        for i, points in enumerate(totals):
            m = Member(userid=f"{code}u{i:02d}", name=f"{code}{i}", branch_id=b.id)
            s.add(m)
            s.flush()
            if points:
                pts.award(s, rt.config, m, "manual", on=DAY, reason="seed", source="test", points=points)


def test_bands_with_ties_and_small_branches(rt):
    # ten members: 1261 gives exactly 1 / 2 / 6 / 1; a tie at the 2/3 border shares the better band
    _branch_of(rt, "big", [90, 80, 70, 70, 60, 50, 40, 30, 20, 10])
    _branch_of(rt, "tiny", [5, 5, 3])
    _branch_of(rt, "solo", [1])
    with rt.session() as s:
        rows = ranking.standings(s, rt.config, 2026)
    got = {r.member.userid: (r.rank, r.band) for r in rows}
    assert [got[f"bigu{i:02d}"][1] for i in range(10)] == ["A", "B", "B", "B", "C", "C", "C", "C", "C", "D"]
    assert got["bigu02"] == got["bigu03"] == (3, "B")
    assert got["bigu04"] == (5, "C")
    # three members: the tie at the top shares A; nobody can be in a bottom 10% of three
    assert [got[f"tinyu{i:02d}"] for i in range(3)] == [(1, "A"), (1, "A"), (3, "C")]
    assert got["solou00"] == (1, "A")
    assert [r.member.userid for r in rows[:3]] == ["bigu00", "bigu01", "bigu02"]


def test_status_lines(backend):
    rt = make_runtime(backend, points={"base": 60, "pass_line": 60, "warning_line": 70})
    _branch_of(rt, "b", [0, -1, 9, 10])
    with rt.session() as s:
        got = {r.member.userid: (r.total, r.status) for r in ranking.standings(s, rt.config, 2026)}
    rt.close()
    assert got == {"bu00": (60, "warning"), "bu01": (59, "unqualified"), "bu02": (69, "warning"),
                   "bu03": (70, "qualified")}


def test_manual_adjustment_rules_and_audit(rt):
    add_roster(rt)
    with rt.session() as s:
        sec, m1, m2, cw = get(s, "sec"), get(s, "m1"), get(s, "m2"), get(s, "cw")
        with pytest.raises(pts.PointsError, match="仅限支部书记"):
            points_admin.adjust(s, rt.config, m1, m2, 2, "帮忙")
        with pytest.raises(pts.PointsError, match="不能给自己"):
            points_admin.adjust(s, rt.config, sec, sec, 2, "自己")
        with pytest.raises(pts.PointsError, match="原因"):
            points_admin.adjust(s, rt.config, sec, m1, 2, " ")
        with pytest.raises(pts.PointsError, match="不在您的支部"):
            points_admin.adjust(s, rt.config, sec, cw, 2, "跨支部")
        entry = points_admin.adjust(s, rt.config, sec, m1, 3, "协助组织主题党日")
        minus = points_admin.adjust(s, rt.config, cw, m1, -7, "无故缺席")  # committee: any branch; month at the limit
    assert isinstance(entry, LedgerEntry)
    assert (entry.points, entry.actor, entry.rule) == (3, "sec", "manual")
    assert isinstance(minus, LedgerEntry)
    assert minus.points == -7
    assert minus.category == "adjustment"
    with rt.session() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == "points_adjust").order_by(AuditLog.id)).all()
        assert [(r.actor, r.target, r.detail) for r in rows] == [
            ("sec", "m1", "+3 协助组织主题党日"), ("cw", "m1", "-7 无故缺席")]
        assert pts.total(s, rt.config, get(s, "m1"), 2026) == 100 - 4


def test_above_limit_needs_committee_approval(rt):
    add_roster(rt)
    with rt.session() as s:
        s.add(Member(userid="cw2", name="委员己", branch_id=get(s, "cw").branch_id, roles="member;committee"))
    with rt.session() as s:
        request = points_admin.adjust(s, rt.config, get(s, "sec"), get(s, "m1"), 15, "抗洪抢险表现突出")
        assert isinstance(request, Approval)
        assert (request.kind, request.needs_role, request.status) == ("points", "committee", "pending")
        number = request.number
        assert pts.entries(s, get(s, "m1")) == []
        # the branch secretary cannot decide a committee request
        with pytest.raises(approvals.ApprovalError):
            approvals.decide(s, rt.config, get(s, "sec"), number, True)
    with rt.session() as s:
        approvals.decide(s, rt.config, get(s, "cw"), number, True)
    with rt.session() as s:
        rows = pts.entries(s, get(s, "m1"))
        assert [(r.points, r.actor, r.source) for r in rows] == [(15, "sec", f"approval:#{number}")]
        assert rows[0].reason == f"抗洪抢险表现突出（#{number} 经 cw 批准）"
        assert s.exec(select(Approval).where(Approval.number == number)).one().status == "approved"
    # a committee member's own request needs another committee member
    with rt.session() as s:
        req = points_admin.adjust(s, rt.config, get(s, "cw"), get(s, "m2"), -12, "严重违纪")
        number = req.number
    with rt.session() as s:
        with pytest.raises(approvals.ApprovalError, match="需由其他支委审批"):
            approvals.decide(s, rt.config, get(s, "cw"), number, True)
    with rt.session() as s:
        assert s.exec(select(Approval).where(Approval.number == number)).one().status == "pending"
        assert pts.entries(s, get(s, "m2")) == []
        approvals.decide(s, rt.config, get(s, "cw2"), number, True)
    with rt.session() as s:
        assert [e.points for e in pts.entries(s, get(s, "m2"))] == [-12]


def test_rule_requiring_approval_is_written_on_approval(backend):
    rt = make_runtime(backend, points={"rules": {"suggestion_adopted": {"requires_approval": True}}})
    add_roster(rt)
    with rt.session() as s:
        plain = points_admin.submit(s, rt.config, get(s, "m1"), "study_checkin", on=DAY, reason="晨学", source="s")
        request = points_admin.submit(s, rt.config, get(s, "m1"), "suggestion_adopted", on=DAY, reason="建议 #4",
                                      source="ticket:4")
        number = request.number
    assert isinstance(plain, LedgerEntry)
    assert isinstance(request, Approval)
    assert request.needs_role == "secretary"
    with rt.session() as s:
        assert [e.rule for e in pts.entries(s, get(s, "m1"))] == ["study_checkin"]
        approvals.decide(s, rt.config, get(s, "sec"), number, True)
    with rt.session() as s:
        last = pts.entries(s, get(s, "m1"))[-1]
        assert (last.rule, last.points, last.category, last.source) == ("suggestion_adopted", 3, "participation",
                                                                          "ticket:4")
    rt.close()


def test_concurrent_awards_respect_the_cap_on_postgresql(postgres_url):
    import threading

    rt = make_runtime(postgres_url)
    add_roster(rt)
    barrier = threading.Barrier(4)
    got: list[int] = []

    def one() -> None:
        with rt.session() as s:
            m1 = get(s, "m1")
            barrier.wait()
            got.append(pts.award(s, rt.config, m1, "study_checkin", on=DAY, reason="晨学", source="s").points)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rt.close()
    assert sorted(got) == [0, 0, 0, 1]
