"""Roster and branch imports, erasure and the demo seed, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from bot.cli import cli
from bot.models import ROLES, AuditLog, Branch, Delivery, InboundMessage, Member, OutboundMessage
from bot.runtime import Runtime
from bot.services import demo
from bot.services.roster import core as roster
from tests.conftest import make_runtime

HEADER = "userid,name,branch,roles,member_type,joined_on,full_member_on,phone,active\n"


@pytest.fixture
def runtime(backend: str) -> Iterator[Runtime]:
    rt = make_runtime(backend)
    yield rt
    rt.close()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run_cli(url: str, *args: str):
    env = {"DANGJIAN_DATABASE_URL": url, "DANGJIAN_CONFIG": None, "DANGJIAN_NOW": "2026-11-25T09:00"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@contextlib.contextmanager
def db_session(url: str) -> Iterator[Session]:
    rt = make_runtime(url)
    try:
        with rt.session() as session:
            yield session
    finally:
        rt.close()


def import_file(rt: Runtime, path: Path, importer=roster.import_roster) -> roster.ImportResult:
    with rt.session() as session:
        return importer(session, roster.read_table(path), "test")


def members(session: Session) -> dict[str, Member]:
    return {m.userid: m for m in session.exec(select(Member))}


def branches(session: Session) -> dict[str, Branch]:
    return {b.code: b for b in session.exec(select(Branch))}


def test_good_csv_creates_then_upserts_case_insensitively(runtime, tmp_path):
    first = write(tmp_path, "r1.csv", HEADER
                  + "ZhangWei,张伟,jg1,secretary;editor,regular,1998-07-01,1999-07-01,138 0013 8000,true\n"
                  + "lina,李娜,jg1,,,2012-05-04,2013-05-04,,\n"
                  + "wanghai,王海,sc1,member,retired,1975-05-04,,,false\n")
    result = import_file(runtime, first)
    assert (result.created, result.updated, result.errors) == (3, 0, [])
    with runtime.session() as session:
        found = members(session)
        assert sorted(found) == ["lina", "wanghai", "zhangwei"]
        zw = found["zhangwei"]
        assert zw.roles == "member;secretary;editor"
        assert zw.phone == "13800138000"
        assert (zw.joined_on, zw.full_member_on) == (dt.date(1998, 7, 1), dt.date(1999, 7, 1))
        assert (found["lina"].roles, found["lina"].member_type, found["lina"].active) == ("member", "regular", True)
        assert found["wanghai"].active is False
        assert found["wanghai"].member_type == "retired"
        assert found["lina"].branch_id == zw.branch_id != found["wanghai"].branch_id

    second = write(tmp_path, "r2.csv", "USERID, Name ,branch\nZHANGWEI,张伟伟,jg1\nLINA,李娜,jg1\nnew1,新人,jg1\n")
    result = import_file(runtime, second)
    assert (result.created, result.updated) == (1, 2)
    with runtime.session() as session:
        found = members(session)
        assert sorted(found) == ["lina", "new1", "wanghai", "zhangwei"]
        assert found["zhangwei"].name == "张伟伟"
        # columns absent from the second file are left alone
        assert found["zhangwei"].roles == "member;secretary;editor"
        assert found["zhangwei"].phone == "13800138000"
        logs = session.exec(select(AuditLog).where(AuditLog.action == "import_roster").order_by(AuditLog.id)).all()
        assert [json.loads(log.detail)["created"] for log in logs] == [3, 1]
        assert all("138" not in log.detail for log in logs)


def test_chinese_headers_roles_and_types(runtime, tmp_path):
    path = write(tmp_path, "cn.csv", "工号,姓名,支部,角色,类别,入党日期,转正日期,手机,在册\n"
                 "zhangwei,张伟,jg1,书记；编辑,在职,2000/02/29,2001/03/01,13800000001,是\n"
                 "lina,李娜,jg1,党员、审核、管理员,预备,2026-03-15,,,\n"
                 "laowang,老王,lt1,副书记,老弱病残,1965-08-01,1966-08-01,,否\n"
                 "liuyang,刘洋,lt1,党委,流动,1990-01-01,1991-01-01,,yes\n"
                 "song,宋,lt1,,退休,1970-01-01,1971-01-01,,0\n")
    assert import_file(runtime, path).created == 5
    with runtime.session() as session:
        found = members(session)
    assert found["zhangwei"].roles == "member;secretary;editor"
    assert found["zhangwei"].joined_on == dt.date(2000, 2, 29)
    assert found["lina"].roles == "member;reviewer;admin"
    assert found["lina"].member_type == "probationary"
    assert (found["laowang"].roles, found["laowang"].member_type, found["laowang"].active) == (
        "member;deputy", "frail", False)
    assert (found["liuyang"].roles, found["liuyang"].member_type) == ("member;committee", "mobile")
    assert (found["song"].member_type, found["song"].active) == ("retired", False)


def test_xlsx_with_date_cells_and_numeric_userids(runtime, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工号", "姓名", "支部", "入党日期", "转正日期", "手机"])
    sheet.append([1001, "张伟", "jg1", dt.date(2000, 2, 29), dt.datetime(2001, 3, 1), 13800138000])  # noqa: DTZ001
    sheet.append([None, None, None, None, None, None])
    sheet.append([1002.0, "李娜", "jg1", "2010/05/04", "2011-05-04", None])
    sheet.append(["ABC", "王芳", 7, dt.datetime(2020, 1, 2, 0, 0), None, "13900000000"])  # noqa: DTZ001
    path = tmp_path / "roster.xlsx"
    book.save(path)

    table = roster.read_table(path)
    assert table.header == ["工号", "姓名", "支部", "入党日期", "转正日期", "手机"]
    assert [line for line, _ in table] == [2, 4, 5]
    assert table[0][1]["工号"] == "1001"
    assert table[0][1]["入党日期"] == "2000-02-29"
    assert table[0][1]["手机"] == "13800138000"
    assert table[1][1]["工号"] == "1002"
    assert table[2][1]["支部"] == "7"

    result = import_file(runtime, path)
    assert (result.created, result.errors) == (3, [])
    with runtime.session() as session:
        found = members(session)
        assert sorted(found) == ["1001", "1002", "abc"]
        assert found["1001"].joined_on == dt.date(2000, 2, 29)
        assert found["1001"].full_member_on == dt.date(2001, 3, 1)
        assert found["1001"].phone == "13800138000"
        assert found["abc"].joined_on == dt.date(2020, 1, 2)
        assert "7" in branches(session)


def test_bad_rows_each_reported_and_nothing_applied(backend, tmp_path):
    good = write(tmp_path, "good.csv", HEADER + "zhangwei,张伟,jg1,secretary,regular,1998-07-01,,,\n")
    ok = run_cli(backend, "import-roster", str(good))
    assert ok.exit_code == 0, ok.output
    assert ok.stdout == "created=1 updated=0 rejected=0\n"

    bad = write(tmp_path, "bad.csv", HEADER
                + "zhangwei,张伟改,jg1,,,,,,\n"                     # 2: fine on its own
                + ",无号,jg1,,,,,,\n"                               # 3
                + "li na,李娜,jg1,,,,,,\n"                          # 4
                + "ZhangWei,重复,jg1,,,,,,\n"                       # 5
                + "\n"                                              # 6: blank, skipped
                + "wangfang,,jg1,chief,student,,,,\n"               # 7
                + "chenjing,陈静,jg1,,,2020-02-30,2019-01-01,,\n"   # 8
                + "zhaolei,赵磊,jg1,,,2010-01-01,2009-01-01,12ab,maybe\n"  # 9
                + "newbie,新人,newbranch,,,2030-01-01,,,\n")        # 10
    result = run_cli(backend, "import-roster", str(bad))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        "line 3: userid is empty",
        "line 4: userid 'li na' may only use letters, digits and _ . @ - (at most 64)",
        "line 5: userid 'zhangwei' already on line 2",
        "line 7: name is empty",
        "line 7: unknown role 'chief' (use member, secretary, deputy, committee, editor, reviewer, admin "
        "or 党员/书记/副书记/党委/编辑/审核/管理员)",
        "line 7: unknown member_type 'student' (use regular, retired, mobile, probationary, frail or "
        "在职/退休/流动/预备/老弱病残)",
        "line 8: joined_on: no such date '2020-02-30'",
        "line 9: full_member_on 2009-01-01 is before joined_on 2010-01-01",
        "line 9: phone must be digits (5 to 20, optional leading +)",
        "line 9: bad yes/no value 'maybe' (use true/false, 1/0, 是/否)",
        "line 10: joined_on 2030-01-01 is in the future",
    ]
    assert "12ab" not in result.stderr
    with db_session(backend) as session:
        found = members(session)
        assert list(found) == ["zhangwei"]
        assert found["zhangwei"].name == "张伟"
        assert "newbranch" not in branches(session)
        assert len(session.exec(select(AuditLog)).all()) == 1


@pytest.mark.parametrize(("text", "message"), [
    ("userid,name,branch,nickname\nx,y,z,w\n", "line 1: unknown column 'nickname'"),
    ("userid,name\nx,y\n", "line 1: missing required column 'branch'"),
    ("工号,账号,姓名,支部\nx,x,y,z\n", "line 1: column '账号' repeats 'userid'"),
])
def test_header_errors(runtime, tmp_path, text, message):
    result = import_file(runtime, write(tmp_path, "h.csv", text))
    assert result.created == 0
    assert any(error.startswith(message) for error in result.errors), result.errors


def test_bom_and_gb18030_csv_read_the_same(tmp_path):
    text = "工号,姓名,支部,类别\nzhangwei,张伟,机关一支部,退休\n"
    plain = roster.read_table(write(tmp_path, "a.csv", text))
    bom = roster.read_table(write(tmp_path, "b.csv", text, "utf-8-sig"))
    gbk = roster.read_table(write(tmp_path, "c.csv", text, "gb18030"))
    assert plain == bom == gbk == [(2, {"工号": "zhangwei", "姓名": "张伟", "支部": "机关一支部", "类别": "退休"})]
    assert bom.header == gbk.header == ["工号", "姓名", "支部", "类别"]


def test_unknown_branch_code_creates_a_branch(runtime, tmp_path):
    with runtime.session() as session:
        session.add(Branch(code="jg1", name="机关第一党支部"))
    path = write(tmp_path, "r.csv", "userid,name,branch\na1,甲,jg1\nb1,乙,机关第一党支部\nc1,丙,newb\nd1,丁,NEWB\n")
    assert import_file(runtime, path).created == 4
    with runtime.session() as session:
        found = branches(session)
        people = members(session)
    assert sorted(found) == ["jg1", "newb"]
    assert (found["newb"].name, found["newb"].level, found["newb"].parent_id) == ("newb", "branch", None)
    assert people["a1"].branch_id == people["b1"].branch_id == found["jg1"].id
    assert people["c1"].branch_id == people["d1"].branch_id == found["newb"].id


def test_import_branches_with_forward_parents(backend, tmp_path):
    path = write(tmp_path, "b.csv", "编码,名称,上级,级别\n"
                 "jg1,机关第一党支部,zz,支部\n"
                 "zz,机关党总支,dw,总支\n"
                 "dw,公司党委,,党委\n")
    result = run_cli(backend, "import-branches", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "created=3 updated=0 rejected=0\n"
    with db_session(backend) as session:
        found = branches(session)
    assert found["jg1"].parent_id == found["zz"].id
    assert found["zz"].parent_id == found["dw"].id
    assert found["dw"].parent_id is None
    assert [found[c].level for c in ("jg1", "zz", "dw")] == ["branch", "general_branch", "committee"]

    # a parent already in the database; a blank level keeps the old one
    again = write(tmp_path, "b2.csv", "code,name,parent,level\nsc1,生产一线党支部,DW,\nzz,党总支,dw,\n")
    result = run_cli(backend, "import-branches", str(again))
    assert result.stdout == "created=1 updated=1 rejected=0\n"
    with db_session(backend) as session:
        found = branches(session)
    assert found["sc1"].parent_id == found["dw"].id
    assert (found["zz"].name, found["zz"].level) == ("党总支", "general_branch")


def test_branch_cycles_and_unknown_parents_rejected(runtime, tmp_path):
    cycle = write(tmp_path, "c.csv", "code,name,parent,level\na,甲,b,\nb,乙,a,\nc,丙,c,\nd,丁,x,\ne,戊,,county\n")
    result = import_file(runtime, cycle, roster.import_branches)
    assert result.errors == [
        "line 5: unknown parent 'x' (not in this file nor in the database)",
        "line 6: unknown level 'county' (use branch/general_branch/committee or 支部/总支/党委)",
    ]
    cycle = write(tmp_path, "c2.csv", "code,name,parent\na,甲,b\nb,乙,a\nc,丙,c\nd,丁,a\n")
    result = import_file(runtime, cycle, roster.import_branches)
    assert result.errors == ["line 2: parent cycle a → b → a", "line 3: parent cycle b → a → b",
                             "line 4: parent cycle c → c"]
    # a cycle closed through rows already in the database
    ok = write(tmp_path, "ok.csv", "code,name,parent\ndw,党委,\njg1,一支部,dw\n")
    assert import_file(runtime, ok, roster.import_branches).created == 2
    loop = write(tmp_path, "loop.csv", "code,name,parent\ndw,党委,jg1\n")
    result = import_file(runtime, loop, roster.import_branches)
    assert result.errors == ["line 2: parent cycle dw → jg1 → dw"]
    with runtime.session() as session:
        assert sorted(branches(session)) == ["dw", "jg1"]
        assert branches(session)["dw"].parent_id is None


def test_forget_erases_personal_data(backend, tmp_path):
    path = write(tmp_path, "r.csv", HEADER + "zhangwei,张伟,jg1,secretary,regular,1998-07-01,1999-07-01,13800000001,\n"
                 + "lina,李娜,jg1,,,2012-05-04,,,\n")
    assert run_cli(backend, "import-roster", str(path)).exit_code == 0
    with db_session(backend) as session:
        zw = members(session)["zhangwei"]
        zw.openid = "oOPENID123"
        session.add(zw)
        session.add(InboundMessage(dedup_key="m1", channel="wecom", sender="zhangwei", msg_type="text",
                                   content="我的心得"))
        message = OutboundMessage(channel="wecom", kind="text", payload="{}")
        session.add(message)
        session.flush()
        session.add(Delivery(message_id=message.id, recipient="zhangwei"))
        member_id = zw.id

    result = run_cli(backend, "forget", "ZhangWei")
    assert result.exit_code == 0, result.output
    assert f"#{member_id}" in result.stdout
    with db_session(backend) as session:
        gone = session.get(Member, member_id)
        assert gone.name == f"已注销#{member_id}"
        assert gone.userid.startswith("forgotten-")
        assert (gone.phone, gone.openid, gone.joined_on, gone.full_member_on) == (None, None, None, None)
        assert (gone.active, gone.roles) == (False, "member")
        assert gone.branch_id is not None  # aggregates per branch still count it
        inbound = session.exec(select(InboundMessage)).one()
        assert (inbound.sender, inbound.content) == (gone.userid, "")
        delivery = session.exec(select(Delivery)).one()
        assert (delivery.recipient, delivery.status) == (gone.userid, "expired")
        log = session.exec(select(AuditLog).where(AuditLog.action == "forget")).one()
        assert log.target == f"member#{member_id}"
        everything = " ".join(f"{x.target} {x.detail}" for x in session.exec(select(AuditLog)))
        for secret in ("zhangwei", "张伟", "13800000001"):
            assert secret not in everything
        assert members(session)["lina"].name == "李娜"

    again = run_cli(backend, "forget", "zhangwei")
    assert again.exit_code == 2
    assert "zhangwei" in again.stderr


def test_demo_seed_is_idempotent(runtime):
    with runtime.session() as session:
        assert demo.seed(session) is True
    with runtime.session() as session:
        assert demo.seed(session) is False
        found = members(session)
        tree = branches(session)
    assert 25 <= len(found) <= 40
    assert tree[demo.DEMO_COMMITTEE_BRANCH].level == "committee"
    children = [b for b in tree.values() if b.parent_id == tree[demo.DEMO_COMMITTEE_BRANCH].id]
    assert len(children) == 3
    assert {r for m in found.values() for r in m.role_set} == set(ROLES)
    assert {m.member_type for m in found.values()} == {"regular", "retired", "mobile", "probationary", "frail"}
    for branch in children:
        roles = [m.role_set for m in found.values() if m.branch_id == branch.id]
        for role in ("secretary", "committee", "editor", "reviewer", "admin"):
            assert any(role in r for r in roles), (branch.code, role)
    assert found[demo.DEMO_SECRETARY].has_role("secretary")
    assert found[demo.DEMO_MEMBER].role_set == {"member"}
    assert found[demo.DEMO_COMMITTEE].has_role("committee")
    assert found[demo.DEMO_ADMIN].has_role("admin")
    assert any((m.joined_on.month, m.joined_on.day) == (11, 25) for m in found.values() if m.joined_on)
    assert any(m.joined_on == dt.date(2000, 2, 29) for m in found.values())


def write_many(path: Path, rows: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("userid,name,branch,joined_on\n")
        for i in range(rows):
            fh.write(f"{prefix}{i:06d},党员{i},b{i % 50},1990-01-0{1 + i % 9}\n")
    return path


def test_roster_import_memory_stays_flat(sqlite_url, tmp_path):
    """The import streams: 10x the rows may not take more than 1.5x the Python memory at its peak."""
    import tracemalloc

    rt = make_runtime(sqlite_url)
    peaks = {}
    for rows, prefix in ((200, "w"), (2_000, "s"), (20_000, "l")):  # the first warms caches
        path = write_many(tmp_path / f"{prefix}.csv", rows, prefix)
        tracemalloc.start()
        with rt.write() as session:
            result = roster.import_roster(session, roster.open_table(path), "test")
        peaks[rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (result.created, result.errors) == (rows, [])
    rt.close()
    assert peaks[20_000] <= 1.5 * peaks[2_000], peaks


def test_repeats_across_chunks_are_found_and_nothing_applied(backend, tmp_path, monkeypatch):
    monkeypatch.setattr(roster, "CHUNK", 3)  # the repeat lands in a later chunk than the first occurrence
    body = "".join(f"u{i},名{i},jg1,,,,,,\n" for i in range(8)) + "U2,又一个,jg1,,,,,,\n"
    result = run_cli(backend, "import-roster", str(write(tmp_path, "r.csv", HEADER + body)))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["line 10: userid 'u2' already on line 4"]
    with db_session(backend) as session:
        assert members(session) == {}
        assert branches(session) == {}


def test_control_characters_in_csv_cells_are_refused_by_line(backend, tmp_path):
    rows = [["userid", "name", "branch", "roles"], ["zhangwei", "张\x00伟", "jg1", "member"],
            ["lina", "李娜", "jg\x011", ""], ["wangfang", "王芳", "jg1", "书记\t"]]
    path = write(tmp_path, "r.csv", "".join(",".join(r) + "\n" for r in rows))
    result = run_cli(backend, "import-roster", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == ["line 2: name contains a control character",
                                          "line 3: branch contains a control character"]
    with db_session(backend) as session:
        assert members(session) == {}
    branches_file = write(tmp_path, "b.csv", "code,name\njg1,第一\x00支部\n")
    refused = run_cli(backend, "import-branches", str(branches_file))
    assert refused.exit_code == 2
    assert refused.stderr == "line 2: name contains a control character\n"


def xlsx_with(tmp_path: Path, rows: list[list[str]], marker: str, raw: bytes) -> Path:
    """An XLSX whose sheet XML carries `raw` where `marker` was (openpyxl never writes control characters)."""
    import zipfile

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    plain, path = tmp_path / "plain.xlsx", tmp_path / "r.xlsx"
    book.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            out.writestr(item, data.replace(marker.encode(), raw) if item.filename.endswith("sheet1.xml") else data)
    return path


@pytest.mark.parametrize("raw", [b"A&#0;B", b"A\x00B", b"A&#1;B"])
def test_control_characters_in_xlsx_are_refused_without_a_traceback(backend, tmp_path, raw):
    rows = [["userid", "name", "branch"], ["lina", "李娜", "jg1"], ["zhangwei", "MARK", "jg1"]]
    result = run_cli(backend, "import-roster", str(xlsx_with(tmp_path, rows, "MARK", raw)))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("line 3: unreadable row (a cell contains a control character")
    assert "Error" not in result.stderr  # no exception class names
    with db_session(backend) as session:
        assert members(session) == {}


def test_deactivation_and_role_loss_end_console_sessions(backend, tmp_path):
    first = HEADER + "zhangwei,张伟,jg1,secretary,,,,,\nlina,李娜,jg1,editor,,,,,\nwangfang,王芳,jg1,,,,,,\n"
    assert run_cli(backend, "import-roster", str(write(tmp_path, "a.csv", first))).exit_code == 0
    second = HEADER + "zhangwei,张伟,jg1,member,,,,,\nlina,李娜,jg1,editor;reviewer,,,,,false\n" \
        + "wangfang,王芳改,jg1,,,,,,\n"
    assert run_cli(backend, "import-roster", str(write(tmp_path, "b.csv", second))).exit_code == 0
    with db_session(backend) as session:
        versions = {u: m.session_version for u, m in members(session).items()}
    assert versions == {"zhangwei": 1, "lina": 1, "wangfang": 0}  # lost secretary; deactivated; renamed only
    assert run_cli(backend, "forget", "wangfang").exit_code == 0
    with db_session(backend) as session:
        assert sorted(m.session_version for m in members(session).values()) == [1, 1, 1]
