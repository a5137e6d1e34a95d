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
