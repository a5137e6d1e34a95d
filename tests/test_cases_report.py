"""`dangjian report tickets` and `report commitments`: exact figures in CSV and XLSX; anonymous reporters never
appear in an export."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot import clock
from bot.cli import cli
from bot.models import Member
from bot.services import commitments
from bot.services.tickets import core as tickets
from bot.services.tickets import handling as ticket_handling
from tests.conftest import make_runtime
from tests.helpers import add_roster

TZ = clock.tz()


def at(day: int, hour: int, month: int = 11) -> None:
    clock.freeze(dt.datetime(2026, month, day, hour, 0, tzinfo=TZ))


@pytest.fixture
def url(backend):
    rt = make_runtime(backend)
    add_roster(rt)
    cfg = rt.config
    with rt.session() as s:
        def get(userid):
            return s.exec(select(Member).where(Member.userid == userid)).one()

        m1, m2, sec, cw = get("m1"), get("m2"), get("sec"), get("cw")
        at(25, 9)
        tickets.report(s, cfg, m1, "problem", "食堂饭菜太咸")  # 1
        tickets.report(s, cfg, m2, "problem", "有人公车私用", anonymous=True)  # 2
        tickets.report(s, cfg, m1, "suggestion", "增加读书角")  # 3: open, due 12-02
        tickets.report(s, cfg, cw, "problem", "党委会议室漏雨")  # 4: graded 萌芽, due 12-09
        ticket_handling.grade(s, cfg, cw, 4, "萌芽")
        ticket_handling.grade(s, cfg, sec, 1, "一般")
        at(26, 15)
        ticket_handling.close(s, cfg, sec, 2, "已核实处理")  # 1.0 day: an anonymous ticket's times are kept to the day
        at(27, 9)
        ticket_handling.close(s, cfg, sec, 1, "已减盐")  # 2.0 days
        ticket_handling.rate(s, cfg, m1, tickets.get(s, 1), True)
        row = commitments.make(s, cfg, m1, "全年帮扶困难群众", "yearly")  # 5
        row.status = "approved"
        commitments.progress(s, m1, 5, "走访一户")
        commitments.fulfil(s, cfg, sec, 5)
        commitments.vote(s, cfg, sec, row, True)
        commitments.vote(s, cfg, m2, row, False)
        commitments.make(s, cfg, m2, "修好楼道灯", "instant")  # 6
    rt.close()
    return backend


def run(url: str, *args: str):
    env = {"DANGJIAN_DATABASE_URL": url, "DANGJIAN_CONFIG": None, "DANGJIAN_NOW": "2026-12-03T09:00"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


SUMMARY = [
    "branch,name,tickets,open,overdue,closed,avg_days_to_close,rated,satisfied,satisfaction",
    "b1,第一党支部,3,1,1,2,1.5,1,1,100.0",
    "dw,公司党委,1,1,0,0,,0,0,",
    "ALL,,4,2,1,2,1.5,1,1,100.0",
]


def test_ticket_summary_exact(url):
    result = run(url, "report", "tickets")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == SUMMARY
    assert run(url, "report", "tickets", "--branch", "dw").stdout.splitlines() == [
        SUMMARY[0], SUMMARY[2], "ALL,,1,1,0,0,,0,0,"]
    assert run(url, "report", "tickets", "--year", "2025").stdout.splitlines() == [SUMMARY[0], "ALL,,0,0,0,0,,0,0,"]
    assert run(url, "report", "tickets", "--branch", "nope").exit_code == 2


def test_ticket_list_never_names_an_anonymous_reporter(url, tmp_path):
    out = run(url, "report", "tickets", "--list").stdout
    lines = out.splitlines()
    assert lines[0] == ("number,branch,kind,anonymous,category,grade,status,created,due,closed,days_to_close,"
                        "reporter,assignee,rating,reopened,level")
    assert lines[2] == "2,b1,problem,yes,廉洁纪律,,closed,2026-11-25,2026-12-02,2026-11-26,1.0,anonymous,,,0,0"
    assert lines[1].startswith("1,b1,problem,no,生活服务,一般,closed,2026-11-25,2026-12-02,2026-11-27,2.0,m1,")
    assert "m2" not in out
    assert "党员丙" not in out
    target = tmp_path / "tickets.xlsx"
    assert run(url, "report", "tickets", "--list", "-o", str(target)).exit_code == 0
    cells = [[c for c in row] for row in openpyxl.load_workbook(target).active.iter_rows(values_only=True)]
    assert cells[2][11] == "anonymous"
    assert all("m2" not in str(c) for row in cells for c in row)


def test_commitments_report_exact(url, tmp_path):
    result = run(url, "report", "commitments")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "number,userid,name,branch,kind,year,text,status,progress_reports,votes,satisfied,satisfaction,escalated",
        "5,m1,党员乙,b1,yearly,2026,全年帮扶困难群众,fulfilled,1,2,1,50.0,no",
        "6,m2,党员丙,b1,instant,2026,修好楼道灯,pending,0,0,0,,no",
    ]
    target = tmp_path / "c.xlsx"
    assert run(url, "report", "commitments", "--format", "xlsx", "-o", str(target)).exit_code == 0
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    assert rows[1][:3] == (5, "m1", "党员乙")
    assert run(url, "report", "commitments", "--year", "2025").stdout.splitlines()[1:] == []


def test_forget_scrubs_ticket_and_commitment_texts(url):
    assert run(url, "forget", "m1").exit_code == 0
    out = run(url, "report", "tickets", "--list").stdout
    assert "m1" not in out
    rows = run(url, "report", "commitments").stdout.splitlines()
    assert rows[1].startswith("5,forgotten-")
    assert ",已注销#2,b1,yearly,2026,（已注销）,fulfilled,1,2,1,50.0,no" in rows[1]
