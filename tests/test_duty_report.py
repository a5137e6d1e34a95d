"""`dangjian import-duty` (all or nothing, `line N: reason`), the `duty_reminder` job and
`dangjian report attendance --event N`; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import openpyxl
from click.testing import CliRunner

from bot.cli import cli
from bot.models import Attendance
from bot.services.theme_day import core as theme_day
from scheduler.runner import run_job
from tests.attendance_helpers import member as _member
from tests.attendance_helpers import past_event as _past_event
from tests.attendance_helpers import queued
from tests.conftest import make_runtime
from tests.helpers import add_roster


def _invoke(tmp_path, url, *args):
    config = tmp_path / "cli.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(config), *args], env={"DANGJIAN_NOW": "2026-11-25T09:00"})


def test_import_duty_all_or_nothing_and_the_reminder(backend, tmp_path):
    rt = make_runtime(backend)
    add_roster(rt)
    bad = tmp_path / "bad.csv"
    bad.write_text("date,userid\n2026-11-26,m1\n2026-13-01,m1\n2026-11-27,nobody\n2026-11-27,gone\n",
                   encoding="utf-8")
    result = _invoke(tmp_path, backend, "import-duty", str(bad))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["line 3: no such date '2026-13-01'",
                                          "line 4: unknown userid 'nobody'",
                                          "line 5: 'gone' is not an active member"]
    assert run_job(rt, "duty_reminder", dt.date(2026, 11, 25)) == "skipped"  # nothing was applied
    good = tmp_path / "duty.xlsx"
    book = openpyxl.Workbook()
    for row in (["日期", "工号"], [dt.date(2026, 11, 26), "M1"], ["2026-11-26", "sec"], ["2026-11-27", "m2"]):
        book.active.append(row)
    book.save(good)
    result = _invoke(tmp_path, backend, "import-duty", str(good))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created=3 existing=0 rejected=0"
    assert _invoke(tmp_path, backend, "import-duty", str(good)).stdout.strip() == "created=0 existing=3 rejected=0"
    assert run_job(rt, "duty_reminder", dt.date(2026, 11, 25)) == "done"
    assert run_job(rt, "duty_reminder", dt.date(2026, 11, 25)) == "already done"
    [text] = queued(rt, "m1")
    assert "明天（2026-11-26）值班" in text
    assert len(queued(rt, "sec")) == 1
    assert queued(rt, "m2") == []
    rt.close()


def test_report_attendance(backend, tmp_path):
    rt = make_runtime(backend)
    add_roster(rt)
    with rt.write() as s:
        sec, m1 = _member(s, "sec"), _member(s, "m1")
        event = _past_event(s, sec.branch_id, dt.datetime(2026, 11, 5, 14, 30, tzinfo=theme_day.clock.tz()))
        s.add(Attendance(event_id=event.id, member_id=sec.id, rsvp="going", signed_at=event.starts_at, late=True))
        s.add(Attendance(event_id=event.id, member_id=m1.id, rsvp="leave"))
        number = event.number
    rt.close()
    result = _invoke(tmp_path, backend, "report", "attendance", "--event", f"#{number}")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "userid,name,branch,rsvp,signed_at,late,result",
        "m1,党员乙,b1,leave,,,",
        "m2,党员丙,b1,,,,",
        "sec,书记甲,b1,going,2026-11-05T14:30+08:00,yes,",
    ]
    out = tmp_path / "a.xlsx"
    assert _invoke(tmp_path, backend, "report", "attendance", "--event", str(number), "-o", str(out)).exit_code == 0
    assert openpyxl.load_workbook(out).active.max_row == 4
    missing = _invoke(tmp_path, backend, "report", "attendance", "--event", "999")
    assert missing.exit_code == 2
    assert "unknown theme day #999" in missing.stderr
