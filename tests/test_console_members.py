"""Roster changes in the console: edit with the reason beside the field, deactivate (ends the member's
console sessions), import with a preview of every bad row before anything is applied, secretary scope."""

from __future__ import annotations

import io

from sqlmodel import select

from bot.models import AuditLog, Member
from tests.test_console_scope import member_login, token, world  # noqa: F401  (the fixture)

GOOD = "工号,姓名,支部,角色\nnew1,新党员一,b1,党员\nnew2,新党员二,b1,党员\n"
BAD = ("工号,姓名,支部,角色,入党日期\nnew1,新党员一,b1,党员,2010-01-01\nnew2,,b1,党员,2010-01-01\n"
       "new3,新三,b1,国王,2099-01-01\n")


def upload(client, text, name="roster.csv"):
    return client.post("/admin/members/import", data={"csrf_token": token(client),
                                                      "file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def names(rt):
    with rt.session() as s:
        return {m.userid for m in s.exec(select(Member))}


def test_import_previews_every_bad_row_then_applies(world):  # noqa: F811
    app, rt, _ = world
    client = member_login(app.test_client(), rt, "sec")
    bad = upload(client, BAD)
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "line 3: name is empty" in html
    assert "line 4: unknown role" in html
    assert "line 4: joined_on 2099-01-01 is in the future" in html
    assert "new1" not in names(rt)  # nothing written, not even the good row
    preview = upload(client, GOOD)
    assert preview.status_code == 200
    assert "将新增 2 人" in preview.get_data(as_text=True)
    assert "new1" not in names(rt)  # a preview writes nothing
    done = client.post("/admin/members/import/apply", data={"csrf_token": token(client)})
    assert done.status_code == 302
    assert {"new1", "new2"} <= names(rt)
    again = client.post("/admin/members/import/apply", data={"csrf_token": token(client)})
    assert again.status_code == 302  # the upload was used: back to the form with a message
    with rt.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "console.roster_import")).first()


def test_secretary_imports_only_their_branch(world):  # noqa: F811
    app, rt, _ = world
    client = member_login(app.test_client(), rt, "sec2")
    resp = upload(client, GOOD)
    assert resp.status_code == 400
    assert "不是您的支部" in resp.get_data(as_text=True)
    assert "new1" not in names(rt)


def test_edit_explains_a_bad_value_and_deactivation_ends_sessions(world):  # noqa: F811
    app, rt, _ = world
    client = member_login(app.test_client(), rt, "cw")
    bad = client.post("/admin/members/m1", data={"csrf_token": token(client), "name": "党员乙",
                                                  "joined_on": "2010-13-40", "roles": "党员"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert 'id="err-joined_on"' in html
    assert 'value="2010-13-40"' in html  # the bad value comes back in the form
    sec = member_login(app.test_client(), rt, "sec")
    assert sec.get("/admin/").status_code == 200
    done = client.post("/admin/members/sec", data={"csrf_token": token(client), "deactivate": "1"})
    assert done.status_code == 302
    assert sec.get("/admin/").status_code == 302  # the deactivated secretary's session is over
    with rt.session() as s:
        assert not s.exec(select(Member).where(Member.userid == "sec")).one().active
    other = member_login(app.test_client(), rt, "sec2")
    assert other.get("/admin/members/m1").status_code == 404


def test_members_export(world):  # noqa: F811
    app, rt, _ = world
    from openpyxl import load_workbook

    client = member_login(app.test_client(), rt, "sec")
    sheet = load_workbook(io.BytesIO(client.get("/admin/members?format=xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("账号", "姓名", "支部", "角色", "类别", "手机", "在册")
    assert {r[0] for r in rows[1:]} == {"sec", "m1", "m2", "gone"}


def test_secretary_cannot_grant_committee_or_admin(world):  # noqa: F811
    app, rt, _ = world
    client = member_login(app.test_client(), rt, "sec")
    resp = client.post("/admin/members/m1", data={"csrf_token": token(client), "roles": "党员;党委"})
    assert resp.status_code == 400
    assert "只能由党委委员或管理员设置" in resp.get_data(as_text=True)
    own = client.post("/admin/members/sec", data={"csrf_token": token(client), "roles": "书记;管理员"})
    assert own.status_code == 400
    bad = upload(client, "工号,姓名,支部,角色\nm1,党员乙,b1,党员;管理员\n")
    assert bad.status_code == 400
    with rt.session() as s:
        assert s.exec(select(Member).where(Member.userid == "m1")).one().role_set == {"member"}
        assert "admin" not in s.exec(select(Member).where(Member.userid == "sec")).one().role_set


def test_console_upload_is_not_held_to_the_callback_limit(world):  # noqa: F811
    app, rt, _ = world
    rows = "".join(f"bulk{i},批量党员{i},b1,党员\n" for i in range(4000))
    text = "工号,姓名,支部,角色\n" + rows
    assert len(text.encode()) > 64 * 1024  # the callbacks' limit
    client = member_login(app.test_client(), rt, "cw")
    preview = upload(client, text)
    assert preview.status_code == 200
    assert "将新增 4000 人" in preview.get_data(as_text=True)
