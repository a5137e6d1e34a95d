"""`dangjian report points` and `report ledger`: exact figures in CSV and XLSX, ledger sums = report totals."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli import cli
from bot.models import Member
from bot.services.points import admin as points_admin
from bot.services.points import core as pts
from tests.conftest import make_runtime
from tests.helpers import add_roster

DAY = dt.date(2026, 11, 25)
HEADER = "userid,name,branch,study,attendance,commitment,participation,adjustment,total,band,status,veto"
EXPECTED = [
    HEADER,
    "m1,党员乙,b1,2,5,0,1,3,71,A,qualified,no",
    "sec,书记甲,b1,0,0,0,0,0,60,C,warning,no",
    "m2,党员丙,b1,0,-5,0,0,0,55,D,unqualified,yes",
    "cw,委员戊,dw,0,0,0,0,0,60,A,warning,no",
]
AT = "2026-11-25T09:00:00+08:00"


@pytest.fixture
def url(backend):
    # m2 is retired: exempt from the absence penalty by default, so this scheme penalises everyone
    rt = make_runtime(backend, points={"rules": {"theme_day_absent": {"exempt_types": []}}})
    add_roster(rt)
    with rt.session() as s:
        def get(userid):
            return s.exec(select(Member).where(Member.userid == userid)).one()

        m1, m2, sec, cw = get("m1"), get("m2"), get("sec"), get("cw")
        cfg = rt.config
        pts.award(s, cfg, m1, "study_checkin", on=dt.date(2025, 12, 31), reason="晨学", source="study")
        pts.award(s, cfg, m1, "study_checkin", on=DAY - dt.timedelta(days=1), reason="晨学", source="study")
        pts.award(s, cfg, m1, "study_checkin", on=DAY, reason="晨学", source="study")
        pts.award(s, cfg, m1, "study_checkin", on=DAY, reason="晨学", source="study")  # capped: 0
        pts.award(s, cfg, m1, "theme_day_attend", on=DAY, reason="11月主题党日", source="event:1")
        pts.award(s, cfg, m1, "problem_reported", on=DAY, reason="反映问题 #3", source="ticket:3")
        points_admin.adjust(s, cfg, sec, m1, 3, "协助组织")
        pts.award(s, cfg, m2, "theme_day_absent", on=DAY, reason="11月主题党日", source="event:1")
        points_admin.veto(s, cfg, cw, m2, "违反廉洁纪律")
    rt.close()
    return backend


def run(url: str, *args: str):
    env = {"DANGJIAN_DATABASE_URL": url, "DANGJIAN_CONFIG": None, "DANGJIAN_NOW": "2026-11-25T09:00",
           "DANGJIAN_POINTS_BASE": "60"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_points_report_csv_exact(url):
    result = run(url, "report", "points", "--year", "2026")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.decode("utf-8").splitlines() == EXPECTED
    assert not result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    # the default year is the clock's year; --branch keeps one branch
    assert run(url, "report", "points").stdout.splitlines() == EXPECTED
    assert run(url, "report", "points", "--branch", "dw").stdout.splitlines() == [EXPECTED[0], EXPECTED[4]]
    # 2025 holds only the one December entry
    rows = list(csv.DictReader(io.StringIO(run(url, "report", "points", "--year", "2025").stdout)))
    assert {r["userid"]: (r["study"], r["total"]) for r in rows}["m1"] == ("1", "61")


def test_ledger_report_and_totals_match(url):
    result = run(url, "report", "ledger", "--user", "M1", "--year", "2026")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "at,rule,category,points,reason,actor",
        f"{AT},study_checkin,study,1,晨学,system",
        f"{AT},study_checkin,study,1,晨学,system",
        f"{AT},study_checkin,study,0,超出每日上限：晨学,system",
        f"{AT},theme_day_attend,attendance,5,11月主题党日,system",
        f"{AT},problem_reported,participation,1,反映问题 #3,system",
        f"{AT},manual,adjustment,3,协助组织,sec",
    ]
    everything = run(url, "report", "ledger", "--user", "m1").stdout.splitlines()
    assert len(everything) == 8  # header, the 2025 entry and the six of 2026
    report = {r["userid"]: r for r in csv.DictReader(io.StringIO(run(url, "report", "points").stdout))}
    for userid, row in report.items():
        ledger = csv.DictReader(io.StringIO(run(url, "report", "ledger", "--user", userid, "--year", "2026").stdout))
        assert 60 + sum(int(e["points"]) for e in ledger) == int(row["total"]), userid


def test_xlsx_and_csv_files(url, tmp_path):
    target = tmp_path / "points.xlsx"
    result = run(url, "report", "points", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    ws = openpyxl.load_workbook(target).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == HEADER.split(",")
    assert values[1] == ["m1", "党员乙", "b1", 2, 5, 0, 1, 3, 71, "A", "qualified", "no"]
    assert values[3] == ["m2", "党员丙", "b1", 0, -5, 0, 0, 0, 55, "D", "unqualified", "yes"]
    assert len(values) == 5
    ledger = tmp_path / "ledger.bin"
    assert run(url, "report", "ledger", "--user", "m1", "--year", "2026", "--format", "xlsx",
               "-o", str(ledger)).exit_code == 0
    rows = list(openpyxl.load_workbook(io.BytesIO(ledger.read_bytes())).active.iter_rows(values_only=True))
    assert rows[0] == ("at", "rule", "category", "points", "reason", "actor")
    assert sum(r[3] for r in rows[1:]) == 11
    plain = tmp_path / "points.csv"
    assert run(url, "report", "points", "--format", "csv", "-o", str(plain)).exit_code == 0
    assert plain.read_bytes().decode("utf-8").splitlines() == EXPECTED


@pytest.mark.parametrize(("args", "message"), [
    (("report", "points", "--format", "xlsx"), "XLSX needs -o"),
    (("report", "points", "--branch", "nope"), "unknown branch"),
    (("report", "points", "--year", "abc"), "--year"),
    (("report", "points", "--format", "pdf"), "--format"),
    (("report", "ledger", "--user", "nobody"), "unknown member"),
    (("report", "ledger"), "--user"),
])
def test_bad_arguments_exit_2(sqlite_url, args, message):
    result = run(sqlite_url, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
