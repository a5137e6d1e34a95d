"""Tickets and commitments in the console: the secretary's branch scope is part of the SQL query, so 250
tickets (and commitments) of another branch do not push the secretary's own off the page; the lists are
paged with a page control, and the count is of what the person may see."""

from __future__ import annotations

from sqlmodel import select

from bot.models import Branch, CaseNumber, Commitment, Member, Ticket, TicketEscalation
from tests.test_console_scope import member_login, world  # noqa: F401  (the fixture)

CROWD = 250  # more than the old fixed limit of 200 rows read before the scope


def _number(s, kind):
    case = CaseNumber(kind=kind)
    s.add(case)
    s.flush()
    return case.id


def crowd(rt):
    """250 open tickets and commitments in b1 (numbered first, so they sort first), then one of each in b2,
    and one b1 ticket escalated to b2."""
    with rt.session() as s:
        b1 = s.exec(select(Branch).where(Branch.code == "b1")).one().id
        b2 = s.exec(select(Branch).where(Branch.code == "b2")).one().id
        m1 = s.exec(select(Member).where(Member.userid == "m1")).one().id
        n1 = s.exec(select(Member).where(Member.userid == "n1")).one().id
        for i in range(CROWD):
            s.add(Ticket(number=_number(s, "ticket"), kind="problem", reporter_id=m1, branch_id=b1,
                         text=f"一支部问题{i:03d}"))
            s.add(Commitment(number=_number(s, "commitment"), member_id=m1, branch_id=b1, year=2026,
                             text=f"一支部承诺{i:03d}", status="approved"))
        s.add(Ticket(number=_number(s, "ticket"), kind="problem", reporter_id=n1, branch_id=b2,
                     text="二支部自己的问题"))
        s.add(Commitment(number=_number(s, "commitment"), member_id=n1, branch_id=b2, year=2026,
                         text="二支部自己的承诺", status="approved"))
        up = Ticket(number=_number(s, "ticket"), kind="problem", reporter_id=m1, branch_id=b1, text="上报二支部的问题")
        s.add(up)
        s.flush()
        s.add(TicketEscalation(ticket_id=up.id, branch_id=b2))


def test_secretary_sees_own_tickets_behind_a_crowd_of_another_branch(world):  # noqa: F811
    app, rt, _ = world
    crowd(rt)
    sec2 = member_login(app.test_client(), rt, "sec2")
    page = sec2.get("/admin/tickets").get_data(as_text=True)
    assert "二支部自己的问题" in page
    assert "上报二支部的问题" in page  # escalated to b2: b2's secretary handles it too
    assert "一支部问题" not in page
    assert "<small>2 件</small>" in page
    assert 'class="pager"' not in page  # one page: no page control
    commitments = sec2.get("/admin/commitments?year=2026").get_data(as_text=True)
    assert "二支部自己的承诺" in commitments
    assert "一支部承诺" not in commitments


def test_tickets_and_commitments_are_paged(world):  # noqa: F811
    app, rt, _ = world
    crowd(rt)
    sec = member_login(app.test_client(), rt, "sec")
    first = sec.get("/admin/tickets").get_data(as_text=True)
    assert f"<small>{CROWD + 1} 件</small>" in first  # b1's 250 and the escalated one, not b2's own
    assert "一支部问题000" in first
    assert "一支部问题050" not in first
    assert 'href="/admin/tickets?page=2"' in first
    assert "第 1 / 6 页" in first
    last = sec.get("/admin/tickets?page=6").get_data(as_text=True)
    assert "上报二支部的问题" in last
    assert "二支部自己的问题" not in last
    assert 'href="/admin/tickets?page=5"' in last
    assert "下一页" not in last
    assert sec.get("/admin/tickets?page=99999999999").status_code == 200  # clamped, not an error
    commitments = sec.get("/admin/commitments?year=2026&page=5").get_data(as_text=True)
    assert "一支部承诺200" in commitments
    assert "一支部承诺199" not in commitments
    assert "/admin/commitments?page=4&amp;year=2026" in commitments or \
        "/admin/commitments?year=2026&amp;page=4" in commitments
    export = sec.get("/admin/tickets?format=csv").get_data(as_text=True)
    assert export.count("一支部问题") == CROWD  # the export is the whole scoped list, not one page
