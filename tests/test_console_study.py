"""The study workflow in the console: 编辑 → 审核 → 排期 → 发布 with the role rules (nobody reviews or
schedules what they wrote), reasons beside the field, a body over 3,000 characters refused, the calendar,
and the scheduled item pushed on its day."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.models import AuditLog, Member, StudyItem
from bot.services.study import push as study_push
from tests.test_console_scope import member_login, token, world  # noqa: F401  (the fixture)

ITEM = {"slug": "dangzhang-1", "series": "理论摘编", "title": "学习新党章", "summary": "党章的总纲。",
        "body": "正文" * 100, "question": "", "answer": ""}
DAY = dt.date(2026, 11, 27)  # a Friday, two days after the tests' clock


@pytest.fixture
def people(world):  # noqa: F811
    app, rt, _ = world
    with rt.session() as s:
        b1 = s.exec(select(Member).where(Member.userid == "sec")).one().branch_id
        s.add_all([Member(userid="ed", name="编辑己", branch_id=b1, roles="member;editor;reviewer"),
                   Member(userid="rv", name="审核庚", branch_id=b1, roles="member;reviewer")])
    return app, rt


def item(rt):
    with rt.session() as s:
        return s.exec(select(StudyItem).where(StudyItem.slug == ITEM["slug"])).one()


def test_write_review_schedule_and_push(people):
    app, rt = people
    ed = member_login(app.test_client(), rt, "ed")
    long_body = ed.post("/admin/study/new", data={**ITEM, "body": "字" * 3001, "csrf_token": token(ed)})
    assert long_body.status_code == 400
    assert 'id="err-body"' in long_body.get_data(as_text=True)
    assert ed.post("/admin/study/new", data={**ITEM, "csrf_token": token(ed)}).status_code == 302
    assert item(rt).status == "draft"
    assert item(rt).editor == "ed"
    own = ed.post(f"/admin/study/{ITEM['slug']}/review", data={"csrf_token": token(ed)})
    assert own.status_code == 400  # an editor cannot approve what they wrote
    assert "不能审核自己撰写的内容" in own.get_data(as_text=True)
    assert item(rt).status == "draft"
    rv = member_login(app.test_client(), rt, "rv")
    assert rv.post(f"/admin/study/{ITEM['slug']}/review", data={"csrf_token": token(rv)}).status_code == 302
    assert item(rt).status == "reviewed"
    assert ed.post(f"/admin/study/{ITEM['slug']}/schedule",
                   data={"csrf_token": token(ed), "publish_on": DAY.isoformat()}).status_code == 400
    weekend = rv.post(f"/admin/study/{ITEM['slug']}/schedule", data={"csrf_token": token(rv),
                                                                     "publish_on": "2026-11-28"})
    assert weekend.status_code == 400
    assert "不是工作日" in weekend.get_data(as_text=True)
    done = rv.post(f"/admin/study/{ITEM['slug']}/schedule", data={"csrf_token": token(rv),
                                                                  "publish_on": DAY.isoformat()})
    assert done.status_code == 302
    assert (item(rt).status, item(rt).publish_on) == ("scheduled", DAY)
    calendar = rv.get("/admin/study?month=2026-11").get_data(as_text=True)
    assert "学习新党章" in calendar.split('id="calendar"')[1]
    with rt.session() as s:
        pushed, count = study_push.morning(s, rt.config, DAY)
        assert pushed is not None
        assert pushed.slug == ITEM["slug"]
        assert count > 0
    assert item(rt).status == "published"
    archive = rv.get("/admin/study").get_data(as_text=True).split('id="archive"')[1]
    assert "学习新党章" in archive
    with rt.session() as s:
        steps = {a.action for a in s.exec(select(AuditLog).where(AuditLog.target == f"study:{ITEM['slug']}"))}
        assert {"study_write", "study_review", "study_schedule"} <= steps


def test_secretary_cannot_open_the_study_pages(people):
    app, rt = people
    sec = member_login(app.test_client(), rt, "sec")
    assert sec.get("/admin/study").status_code == 403
    resp = sec.post("/admin/study/new", data={**ITEM, "csrf_token": token(sec)})
    assert resp.status_code == 403
    with rt.session() as s:
        assert s.exec(select(StudyItem).where(StudyItem.slug == ITEM["slug"])).first() is None


def test_import_content_refuses_a_status_above_reviewed_and_a_long_body(sqlite_url, tmp_path):
    import openpyxl

    from tests.test_study import _import_content

    book = openpyxl.Workbook()
    book.active.append(["编号", "栏目", "标题", "摘要", "正文", "状态"])
    book.active.append(["ok-one", "廉政建设", "好", "守纪律", "正文内容", "reviewed"])
    book.active.append(["up-one", "廉政建设", "跳步", "守纪律", "正文内容", "published"])
    book.active.append(["long-one", "廉政建设", "太长", "守纪律", "字" * 3001, "draft"])
    book.save(tmp_path / "items.xlsx")
    result = _import_content(sqlite_url, tmp_path / "items.xlsx")
    assert result.exit_code == 2
    assert "line 3: status 'published' cannot be imported" in result.output
    assert "line 4: body is 3001 characters, over 3000" in result.output


TOML = ('[[items]]\nslug = "up-a"\nseries = "健康知识"\ntitle = "睡眠"\nsummary = "睡够"\nbody = "正文"\n'
        'status = "reviewed"\n')


def send(client, text, name):
    import io

    return client.post("/admin/study/upload", data={"csrf_token": token(client),
                                                    "file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_upload_lands_as_draft_or_reviewed_for_a_reviewer(people):
    app, rt = people
    with rt.session() as s:
        b1 = s.exec(select(Member).where(Member.userid == "sec")).one().branch_id
        s.add(Member(userid="only-ed", name="编辑辛", branch_id=b1, roles="member;editor"))
    ed = member_login(app.test_client(), rt, "only-ed")
    assert send(ed, TOML, "a.toml").status_code == 302
    with rt.session() as s:
        row = s.exec(select(StudyItem).where(StudyItem.slug == "up-a")).one()
        assert (row.status, row.editor) == ("draft", "only-ed")  # an editor's upload is a draft
    rv = member_login(app.test_client(), rt, "rv")
    again = TOML.replace("up-a", "up-b")
    assert send(rv, again, "b.toml").status_code == 302
    with rt.session() as s:
        assert s.exec(select(StudyItem).where(StudyItem.slug == "up-b")).one().status == "reviewed"
    bad = send(ed, TOML.replace("up-a", "up-c").replace('"reviewed"', '"published"'), "c.toml")
    assert bad.status_code == 400
    assert "c.toml [items 1]: status &#39;published&#39; cannot be imported" in bad.get_data(as_text=True)
