"""Exports neutralise formulas (CONTRACT.md "Privacy"): CSV prefixes `'` to free text starting with = + - @ tab
CR, XLSX writes text as string cells and numbers as numbers; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import openpyxl
from click.testing import CliRunner

from bot import clock, export
from bot.cli import cli
from bot.models import Branch, Member
from bot.services.points import core as pts
from tests.conftest import make_runtime

NAMES = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTab", "正常名字"]
REASON = '=HYPERLINK("http://evil.example","点我")'


def run(url: str, *args: str):
    env = {"DANGJIAN_DATABASE_URL": url, "DANGJIAN_CONFIG": None, "DANGJIAN_NOW": "2026-11-25T09:00"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def seed(url: str) -> None:
    rt = make_runtime(url)
    with rt.session() as s:
        branch = Branch(code="b1", name="=支部")
        s.add(branch)
        s.flush()
        people = [Member(userid=f"u{i}", name=name, branch_id=branch.id) for i, name in enumerate(NAMES)]
        s.add_all(people)
        s.flush()
        pts.award(s, rt.config, people[0], "manual", on=clock.today(), reason=REASON, source="chat",
                  actor="sec", points=-3)
        # base 100 - 3 - 100: the total is negative, so the report checks a negative number in a total cell
        pts.award(s, rt.config, people[0], "manual", on=clock.today(), reason="#1", source="chat",
                  actor="sec", points=-100)
    rt.close()


def test_csv_and_xlsx_exports_never_carry_formulas(backend, tmp_path):
    seed(backend)
    result = run(backend, "report", "points")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    names = {r[0]: r[1] for r in rows[1:]}
    assert names == {"u0": "'=1+2", "u1": "'+SUM(A1)", "u2": "'-2+3", "u3": "'@cmd", "u4": "'\tTab", "u5": "正常名字"}
    assert {r[2] for r in rows[1:]} == {"b1"}
    totals = {r[0]: r[rows[0].index("total")] for r in rows[1:]}
    assert totals["u0"] == "-3"  # numbers stay numbers, negative ones unprefixed
    ledger = list(csv.reader(io.StringIO(run(backend, "report", "ledger", "--user", "u0").stdout)))
    assert ledger[1][1:] == ["manual", "adjustment", "-3", "'" + REASON, "sec"]  # -3 is a number: no prefix

    path = tmp_path / "points.xlsx"
    assert run(backend, "report", "points", "-o", str(path)).exit_code == 0
    sheet = openpyxl.load_workbook(path).active
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    for i, name in enumerate(NAMES):
        assert (cells[f"u{i}"][1].value, cells[f"u{i}"][1].data_type) == (name, "s")
    total = cells["u0"][sheet[1][[c.value for c in sheet[1]].index("total")].column - 1]
    assert (total.value, total.data_type) == (-3, "n")
    path = tmp_path / "ledger.xlsx"
    assert run(backend, "report", "ledger", "--user", "u0", "-o", str(path)).exit_code == 0
    entry = next(openpyxl.load_workbook(path).active.iter_rows(min_row=2))
    assert [(c.value, c.data_type) for c in entry[3:5]] == [(-3, "n"), (REASON, "s")]


def test_export_helper_types():
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(["a", "b"], [["=A1", 1.5], ["\tx", None]])))
    assert [[(c.value, c.data_type) for c in row] for row in book.active.iter_rows(min_row=2)] == [
        [("=A1", "s"), (1.5, "n")], [("\tx", "s"), (None, "n")]]
    assert [export.csv_cell(v) for v in ("\rx", "\tx", -1, 2.5, "a=b")] == ["'\rx", "'\tx", -1, 2.5, "a=b"]
    assert export.csv_text(["=h"], [["-x"], [-1]]) == "'=h\n'-x\n-1\n"
