"""The study library beyond the first pass: editing a scheduled item sends it back through review (it loses
its date); a published item cannot be edited; a taken day is refused unless the item is an urgent insert,
which replaces that day's item (the old one back to reviewed, the urgent one pushed on the day); the archive
is searchable by words and series, the same list in the console and on the public `/study/` page."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.models import AuditLog, StudyDay, StudyItem
from bot.services.study import core as study
from bot.services.study import push as study_push
from tests.test_console_scope import member_login, token, world  # noqa: F401  (the fixture)
from tests.test_console_study import DAY, ITEM, item, people  # noqa: F401  (the fixture)

OTHER = {**ITEM, "slug": "jiangsu-1", "title": "紧急学习文件", "series": "会议文件"}


def reviewed(app, rt, data):
    """`data` written by ed and reviewed by rv: (ed's client, rv's client)."""
    ed = member_login(app.test_client(), rt, "ed")
    rv = member_login(app.test_client(), rt, "rv")
    assert ed.post("/admin/study/new", data={**data, "csrf_token": token(ed)}).status_code == 302
    assert rv.post(f"/admin/study/{data['slug']}/review", data={"csrf_token": token(rv)}).status_code == 302
    return ed, rv


def schedule(client, slug, day, urgent=False):
    form = {"csrf_token": token(client), "publish_on": day.isoformat()}
    return client.post(f"/admin/study/{slug}/schedule", data={**form, "urgent": "on"} if urgent else form)


def test_editing_a_scheduled_item_sends_it_back_through_review(people):  # noqa: F811
    app, rt = people
    ed, rv = reviewed(app, rt, ITEM)
    assert schedule(rv, ITEM["slug"], DAY).status_code == 302
    form = ed.get(f"/admin/study/{ITEM['slug']}").get_data(as_text=True)
    assert 'id="rescheduling"' in form  # the page says what saving will do
    saved = ed.post(f"/admin/study/{ITEM['slug']}", data={**ITEM, "title": "学习新党章（修订）",
                                                          "csrf_token": token(ed)}, follow_redirects=True)
    assert "原定 2026-11-27 的排期已取消" in saved.get_data(as_text=True)
    row = item(rt)
    assert (row.status, row.publish_on, row.reviewer, row.title) == ("draft", None, None, "学习新党章（修订）")
    assert "学习新党章" not in rv.get("/admin/study?month=2026-11").get_data(as_text=True).split('id="calendar"')[1] \
        .split("</section>")[0]
    assert schedule(rv, ITEM["slug"], DAY).status_code == 400  # a draft again: review first
    assert rv.post(f"/admin/study/{ITEM['slug']}/review", data={"csrf_token": token(rv)}).status_code == 302
    assert schedule(rv, ITEM["slug"], DAY).status_code == 302
    with rt.session() as s:
        study_push.morning(s, rt.config, DAY)
        audit = [a.detail for a in s.exec(select(AuditLog).where(AuditLog.action == "study_write"))]
    assert any("was scheduled 2026-11-27" in d for d in audit)
    assert item(rt).status == "published"
    late = ed.post(f"/admin/study/{ITEM['slug']}", data={**ITEM, "csrf_token": token(ed)})
    assert late.status_code == 400
    assert "已发布，不能再修改" in late.get_data(as_text=True)


def test_urgent_insert_replaces_that_days_item(people):  # noqa: F811
    app, rt = people
    _, rv = reviewed(app, rt, ITEM)
    assert schedule(rv, ITEM["slug"], DAY).status_code == 302
    reviewed(app, rt, OTHER)
    with rt.session() as s:
        assert study.item_for(s, DAY).slug == ITEM["slug"]  # the day chose the scheduled item already
    taken = schedule(rv, OTHER["slug"], DAY)
    assert taken.status_code == 400  # not urgent: the day is taken, the reason beside the date
    page = taken.get_data(as_text=True)
    assert 'id="err-publish_on"' in page
    assert "已排《学习新党章》" in page
    done = schedule(rv, OTHER["slug"], DAY, urgent=True)
    assert done.status_code == 302
    flashed = rv.get(done.headers["Location"]).get_data(as_text=True)
    assert "《学习新党章》已退回「已审核」" in flashed
    assert (item(rt).status, item(rt).publish_on) == ("reviewed", None)
    with rt.session() as s:
        urgent = s.exec(select(StudyItem).where(StudyItem.slug == OTHER["slug"])).one()
        assert (urgent.status, urgent.publish_on, urgent.urgent) == ("scheduled", DAY, True)
        pushed, count = study_push.morning(s, rt.config, DAY)
        assert pushed is not None
        assert pushed.slug == OTHER["slug"]  # the urgent item went out, not the one first chosen
        assert count > 0
        assert s.exec(select(StudyDay).where(StudyDay.date == DAY)).one().item_id == urgent.id
    assert item(rt).status == "reviewed"  # the replaced item waits to be scheduled again


def publish(rt, slug, series, title, day, body="正文"):
    with rt.session() as s:
        row = StudyItem(slug=slug, series=series, title=title, summary="摘要", body=body, status="published")
        s.add(row)
        s.flush()
        s.add(StudyDay(date=day, item_id=row.id))


def test_archive_is_searchable_and_matches_the_public_page(people):  # noqa: F811
    app, rt = people
    assert "还没有往期内容" in app.test_client().get("/study/").get_data(as_text=True)
    publish(rt, "a-1", "廉政建设", "廉洁自律准则", dt.date(2026, 11, 2))
    publish(rt, "a-2", "健康知识", "冬季养生", dt.date(2026, 11, 3), body="多喝热水，注意廉洁")
    publish(rt, "a-3", "廉政建设", "八项规定", dt.date(2026, 11, 4))
    reviewed(app, rt, ITEM)  # not published: never in the archive
    rv = member_login(app.test_client(), rt, "rv")
    console = rv.get("/admin/study").get_data(as_text=True).split('id="archive"')[1]
    assert console.index("八项规定") < console.index("冬季养生") < console.index("廉洁自律准则")  # newest first
    assert "2026-11-04" in console
    assert "学习新党章" not in console
    public = app.test_client().get("/study/").get_data(as_text=True)
    assert public.index("八项规定") < public.index("冬季养生") < public.index("廉洁自律准则")
    assert "学习新党章" not in public
    assert 'href="/study/a-3"' in public
    searches = (("q=廉洁", {"廉洁自律准则", "冬季养生"}), ("series=廉政建设", {"廉洁自律准则", "八项规定"}),
                ("q=廉洁&series=廉政建设", {"廉洁自律准则"}))
    for query, expected in searches:
        in_console = rv.get(f"/admin/study?{query}").get_data(as_text=True).split('id="archive"')[1]
        in_public = app.test_client().get(f"/study/?{query}").get_data(as_text=True).split('id="archive"')[1]
        for title in ("廉洁自律准则", "冬季养生", "八项规定"):
            assert (title in in_console) == (title in expected), (query, title)
            assert (title in in_public) == (title in expected), (query, title)
    nothing = app.test_client().get("/study/?q=不存在的词").get_data(as_text=True)
    assert "没有找到符合条件的往期内容" in nothing


def test_archive_query_on_both_backends(rt):
    """`study_archive.search` (coalesced first study day, NULLS LAST, words and series) on SQLite and
    PostgreSQL: a published item without a study day sorts last; `%` in the words is literal."""
    from bot.services.study import archive as study_archive

    publish(rt, "b-1", "廉政建设", "百分之百廉洁", dt.date(2026, 10, 8))
    publish(rt, "b-2", "廉政建设", "新风", dt.date(2026, 10, 9))
    with rt.session() as s:
        s.add(StudyItem(slug="b-3", series="健康知识", title="无日期", summary="摘要", body="100% 健康",
                        status="published"))
    with rt.session() as s:
        found = study_archive.search(s)
        assert [(e.item.slug, e.day) for e in found.entries] == [("b-2", dt.date(2026, 10, 9)),
                                                                 ("b-1", dt.date(2026, 10, 8)), ("b-3", None)]
        assert [e.item.slug for e in study_archive.search(s, "100%").entries] == ["b-3"]
        assert study_archive.search(s, series="廉政建设", per_page=1, page=2).entries[0].item.slug == "b-1"
        assert study_archive.search(s, series="不存在").total == 3  # an unknown series is no filter


def test_uploads_respect_the_workflow_roles(people):  # noqa: F811
    """A secretary cannot upload; an upload with a body over 3,000 characters is refused with its place;
    a reviewer's upload lands `reviewed` but that reviewer, its author, cannot schedule it: someone else does."""
    from tests.test_console_study import TOML, send

    app, rt = people
    sec = member_login(app.test_client(), rt, "sec")
    assert send(sec, TOML, "a.toml").status_code == 403
    rv = member_login(app.test_client(), rt, "rv")
    long_body = send(rv, TOML.replace('body = "正文"', f'body = "{"字" * 3001}"'), "long.toml")
    assert long_body.status_code == 400
    assert "long.toml [items 1]: body is 3001 characters, over 3000" in long_body.get_data(as_text=True)
    assert send(rv, TOML, "a.toml").status_code == 302
    with rt.session() as s:
        row = s.exec(select(StudyItem).where(StudyItem.slug == "up-a")).one()
        assert (row.status, row.editor) == ("reviewed", "rv")
    own = schedule(rv, "up-a", DAY)
    assert own.status_code == 400
    assert "不能给自己撰写的内容排期" in own.get_data(as_text=True)
    ed = member_login(app.test_client(), rt, "ed")  # a reviewer too, not the author
    assert schedule(ed, "up-a", DAY).status_code == 302
