"""Forms that explain: a refused value comes back in the form with the reason beside the field."""

from __future__ import annotations

from sqlmodel import select

from bot.models import Branch, ThemeDay
from tests.test_console_scope import member_login, token, world  # noqa: F401  (the fixture)


def b1_id(rt):
    with rt.session() as s:
        return s.exec(select(Branch).where(Branch.code == "b1")).one().id


def test_branch_day_31_and_limit_before_fixed_day(world):  # noqa: F811
    app, rt, _ = world
    client = member_login(app.test_client(), rt, "cw")
    b1 = b1_id(rt)
    form = {"csrf_token": token(client), "theme_day_rule": "fixed", "theme_day_day": "31", "push_enabled": "on"}
    day31 = client.post(f"/admin/branches/{b1}", data=form)
    assert day31.status_code == 400
    html = day31.get_data(as_text=True)
    assert f'id="err-{b1}-theme_day_day"' in html
    assert "“31”不行" in html
    assert 'value="31"' in html  # the bad value comes back in the form
    early = client.post(f"/admin/branches/{b1}", data={**form, "theme_day_day": "20", "theme_day_limit_day": "10"})
    assert early.status_code == 400
    assert "截止日（10 日）不能早于固定日（20 日）" in early.get_data(as_text=True)
    with rt.session() as s:
        assert s.get(Branch, b1).theme_day_day is None


def test_theme_day_refused_for_a_level_without_members_and_for_a_past_date(world):  # noqa: F811
    app, rt, _ = world
    with rt.session() as s:
        top = s.exec(select(Branch).where(Branch.code == "dw")).one()
        empty = Branch(code="zz", name="机关总支", level="general_branch", parent_id=top.id)
        s.add(empty)
        s.flush()
        empty_id = empty.id
    client = member_login(app.test_client(), rt, "cw")
    form = {"csrf_token": token(client), "branch_id": str(empty_id), "date": "2026-12-12", "time": "14:00",
            "place": "会议室", "topic": "无人之会"}
    refused = client.post("/admin/theme-days", data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "机关总支没有在册党员" in html
    assert 'value="无人之会"' in html
    past = client.post("/admin/theme-days", data={**form, "branch_id": str(b1_id(rt)), "date": "2026-11-01"})
    assert past.status_code == 400
    assert 'id="err-date"' in past.get_data(as_text=True)
    with rt.session() as s:
        assert s.exec(select(ThemeDay).where(ThemeDay.topic == "无人之会")).first() is None


def test_postpone_to_a_past_date_comes_back_beside_that_events_form(world):  # noqa: F811
    app, rt, _ = world
    with rt.session() as s:
        event = s.exec(select(ThemeDay)).one()
        event_id, starts = event.id, event.starts_at
    client = member_login(app.test_client(), rt, "sec")
    resp = client.post(f"/admin/theme-days/{event_id}/postpone",
                       data={"csrf_token": token(client), "date": "2026-11-01", "time": "14:00"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert f'id="err-postpone-{event_id}"' in html
    assert 'value="2026-11-01"' in html  # the typed date comes back, marked invalid
    create_form = html.split('action="/admin/theme-days"')[1].split("</form>")[0]
    assert 'value="2026-11-01"' not in create_form  # not copied into the create form
    with rt.session() as s:
        assert s.get(ThemeDay, event_id).starts_at == starts


def test_refused_commitment_action_shows_the_reason_on_its_card(world):  # noqa: F811
    from bot.models import CaseNumber, Commitment, Member

    app, rt, _ = world
    with rt.session() as s:
        case = CaseNumber(kind="commitment")
        s.add(case)
        s.flush()
        sec = s.exec(select(Member).where(Member.userid == "sec")).one()
        s.add(Commitment(number=case.id, member_id=sec.id, branch_id=sec.branch_id, year=2026, text="带头学习",
                         status="approved"))
        number = case.id
    client = member_login(app.test_client(), rt, "sec")
    own = client.post(f"/admin/commitments/{number}/fulfil", data={"csrf_token": token(client), "year": "2026"})
    assert own.status_code == 400  # the owner cannot confirm their own commitment
    html = own.get_data(as_text=True)
    card = html.split(f'id="c{number}"')[1].split("</section>")[0]
    assert f'id="err-{number}"' in card
    with rt.session() as s:
        assert s.exec(select(Commitment).where(Commitment.number == number)).one().status == "approved"


def test_csrf_failure_and_missing_things_are_pages_that_say_what_to_do(world):  # noqa: F811
    app, rt, _ = world
    client = member_login(app.test_client(), rt, "cw")
    stale = client.post("/admin/theme-days/1/cancel", data={"csrf_token": "stale"},
                        headers={"Referer": "http://localhost/admin/theme-days"})
    assert stale.status_code == 400
    assert stale.mimetype == "text/html"
    page = stale.get_data(as_text=True)
    assert "刷新后重新提交" in page
    assert 'href="/admin/theme-days">返回' in page
    api = client.post("/admin/theme-days/1/cancel", headers={"Accept": "application/json"})
    assert (api.status_code, api.mimetype) == (400, "text/plain")
    missing = client.get("/admin/study/no-such-item")
    assert missing.status_code == 404
    assert 'id="problem"' in missing.get_data(as_text=True)
    assert "没有这个学习内容" in missing.get_data(as_text=True)
    csrf = token(client)
    gone = client.post("/admin/tickets/1/nothing", data={"csrf_token": csrf})
    assert gone.status_code == 404
    assert "没有这个操作" in gone.get_data(as_text=True)


def test_operator_account_is_told_to_sign_in_with_wecom_on_every_numbered_action(world):  # noqa: F811
    """bot/admin/actions.act_on: an operator account acts for nobody; the refusal names who may act, on the card."""
    from bot.models import CaseNumber, Commitment, Member, Ticket, TicketEvent
    from tests.test_admin import add_admin, login

    app, rt, _ = world
    with rt.session() as s:
        sec = s.exec(select(Member).where(Member.userid == "sec")).one()
        cases = [CaseNumber(kind="commitment"), CaseNumber(kind="ticket")]
        s.add_all(cases)
        s.flush()
        commitment, ticket = (c.id for c in cases)
        s.add(Commitment(number=commitment, member_id=sec.id, branch_id=sec.branch_id, year=2026, text="带头学习",
                         status="approved"))
        s.add(Ticket(number=ticket, kind="problem", reporter_id=sec.id, branch_id=sec.branch_id, text="路灯坏了"))
    add_admin(rt)
    client = app.test_client()
    login(client)
    csrf = token(client)
    fulfil = client.post(f"/admin/commitments/{commitment}/fulfil", data={"csrf_token": csrf, "year": "2026"})
    reply = client.post(f"/admin/tickets/{ticket}/reply", data={"csrf_token": csrf, "text": "已报修"})
    assert (fulfil.status_code, reply.status_code) == (400, 400)
    assert "运维账号不能操作：请用企业微信登录，以书记或党委委员身份操作。" in fulfil.get_data(as_text=True)
    assert "运维账号不能办理：请用企业微信登录，以书记或党委委员身份办理。" in reply.get_data(as_text=True)
    with rt.session() as s:
        assert s.exec(select(Commitment).where(Commitment.number == commitment)).one().status == "approved"
        row = s.exec(select(Ticket).where(Ticket.number == ticket)).one()
        assert s.exec(select(TicketEvent).where(TicketEvent.ticket_id == row.id)).first() is None  # nothing done
