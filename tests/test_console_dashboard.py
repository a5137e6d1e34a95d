"""The dashboard's calendar warnings beyond chinese-calendar's missing year (tests/test_admin.py): the
content calendar's gaps in the next ten workdays, shown to the study roles (not to a secretary), counting
days already chosen, items dated for a day and the rotation's reviewed items one per day."""

from __future__ import annotations

import datetime as dt

from bot.admin import calendar_warnings
from bot.models import StudyDay, StudyItem
from tests.test_console_scope import member_login, world  # noqa: F401  (the fixture)
from tests.test_console_study import people  # noqa: F401  (the fixture)

TODAY = dt.date(2026, 11, 25)  # the tests' clock: a Wednesday


def add(rt, slug, status, publish_on=None):
    with rt.session() as s:
        row = StudyItem(slug=slug, series="理论摘编", title=slug, summary="摘要", body="正文", status=status,
                        publish_on=publish_on)
        s.add(row)
        s.flush()
        return row.id


def test_study_gaps_count_chosen_dated_and_rotation_days(people):  # noqa: F811
    app, rt = people
    days = calendar_warnings.workdays_ahead(TODAY)
    assert days[:3] == [TODAY, dt.date(2026, 11, 26), dt.date(2026, 11, 27)]
    assert len(days) == 10
    with rt.session() as s:
        assert calendar_warnings.study_gaps(s, TODAY) == days  # nothing at all: every day is a gap
    used = add(rt, "chosen", "published")
    with rt.session() as s:
        s.add(StudyDay(date=TODAY, item_id=used))
    add(rt, "dated", "scheduled", dt.date(2026, 11, 27))
    add(rt, "pool-1", "reviewed")
    add(rt, "pool-2", "reviewed")
    add(rt, "draft-1", "draft")
    with rt.session() as s:
        # today chosen, the 27th dated, the 26th and the 30th from the pool: the rest are gaps
        assert calendar_warnings.study_gaps(s, TODAY) == days[4:]
    rv = member_login(app.test_client(), rt, "rv")
    html = rv.get("/admin/").get_data(as_text=True)
    warning = html.split('id="study-gaps"')[1].split("</section>")[0]
    assert "12-01、12-02" in warning
    assert "11-30" not in warning  # filled by the second pool item
    assert "共 6 个工作日" in warning
    assert "草稿 1 篇" in warning
    sec = member_login(app.test_client(), rt, "sec")
    assert 'id="study-gaps"' not in sec.get("/admin/").get_data(as_text=True)
    with rt.session() as s:
        for i in range(6):
            s.add(StudyItem(slug=f"more-{i}", series="健康知识", title="t", summary="s", body="b", status="reviewed"))
    assert 'id="study-gaps"' not in rv.get("/admin/").get_data(as_text=True)  # the next ten days are filled


def test_points_bands_count_the_branchs_active_members(world):  # noqa: F811
    """The bands chart is a distribution of people: every active member of the branch in one band, the
    secretary's chart their own branch only, the committee's every branch."""
    import re

    app, rt, _ = world

    def people_in_bands(userid):
        html = member_login(app.test_client(), rt, userid).get("/admin/").get_data(as_text=True)
        svg = html.split('id="chart-bands"')[1].split("</svg>")[0]
        return [int(n) for n in re.findall(r">(\d+) 人<", svg)]

    b1, b2 = people_in_bands("sec"), people_in_bands("sec2")
    assert sum(b1) == 3  # sec, m1, m2 (gone is inactive)
    assert sum(b2) == 2  # sec2, n1
    assert sum(people_in_bands("cw")) >= sum(b1) + sum(b2)
