"""The morning card to a roster through the fake WeCom API, `import-content` and `report study` CLIs."""

from __future__ import annotations

import datetime as dt

import openpyxl
from click.testing import CliRunner
from sqlmodel import select

import bot.commands.report_study  # registers report study (bot.commands.study is unused otherwise)
import bot.commands.study  # noqa: F401  (registers import-content)
from bot import outbox
from bot.cli import cli
from bot.models import Branch, StudyItem
from bot.services import study_content, study_push
from scheduler.runner import run_job
from tests.conftest import make_runtime
from tests.helpers import add_roster
from tests.study_helpers import add_items, item, member

pytest_plugins = ("tests.fakewecom",)
WED = dt.date(2026, 11, 25)


def test_morning_card_reaches_the_roster_once(make_rt, fake_wecom):
    rt = make_rt()
    add_roster(rt)
    with rt.session() as s:
        other = Branch(code="b2", name="第二党支部", push_enabled=False)
        s.add(other)
        s.flush()
        quiet = member(s, "m2")
        quiet.branch_id = other.id
        s.add(quiet)
    add_items(rt, item("a1"))
    assert run_job(rt, "morning_study", WED) == "done"
    assert outbox.Worker(rt, "w").drain()["sent"] == 3
    assert sorted(fake_wecom.delivered) == ["cw", "m1", "sec"]  # not inactive, not an opted-out branch
    card = fake_wecom.delivered["m1"][0]
    assert card["card_type"] == "button_interaction"
    assert card["card_action"]["url"] == "http://127.0.0.1:8000/study/a1"
    assert card["button_list"] == [{"text": "已学", "style": 1, "key": "checkin:2026-11-25"}]
    assert card["main_title"]["title"] == "标题a1"
    [call] = fake_wecom.sends()
    assert call["body"]["msgtype"] == "template_card"
    assert call["body"]["touser"].count("|") == 2
    with rt.session() as s:  # forced again for the same date: same outbox key, nothing new
        study_push.morning(s, rt.config, WED)
    assert outbox.Worker(rt, "w").drain()["sent"] == 0
    assert len(fake_wecom.sends()) == 1


def _invoke(tmp_path, url, *args):
    config = tmp_path / "cli.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(config), *args], env={"DANGJIAN_NOW": "2026-11-25T09:00"})


def test_import_content_cli_and_the_sample_library(backend, tmp_path):
    result = _invoke(tmp_path, backend, "import-content", str(study_content.LIBRARY))
    assert result.exit_code == 0, result.output
    created = int(result.stdout.split()[0].split("=")[1])
    assert created >= 30
    again = _invoke(tmp_path, backend, "import-content", str(study_content.LIBRARY))
    assert again.stdout.startswith("created=0 updated=0")
    bad = tmp_path / "bad.md"
    bad.write_text("no front matter\n", encoding="utf-8")
    failed = _invoke(tmp_path, backend, "import-content", str(bad))
    assert failed.exit_code == 2
    assert f"{bad}: no front matter" in failed.stderr
    rt = make_runtime(backend)
    with rt.session() as s:
        items = list(s.exec(select(StudyItem)))
    rt.close()
    assert {i.series for i in items} == set(study_content.STUDY_SERIES)
    assert sum(1 for i in items if i.question) * 2 >= len(items)
    assert all(i.status == "reviewed" and len(i.summary) <= 120 for i in items)
    assert all(700 <= len(i.body) <= 1300 for i in items), [(i.slug, len(i.body)) for i in items]


def test_report_study_counts_csv_and_xlsx(backend, tmp_path):
    rt = make_runtime(backend)
    add_roster(rt)
    add_items(rt, item("a1"))
    run_job(rt, "morning_study", WED)
    with rt.session() as s:
        from bot.services import study_checkin

        study_checkin.check_in(s, rt.config, member(s, "m1"))
    rt.close()
    result = _invoke(tmp_path, backend, "report", "study", "--date", "2026-11-25")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "userid,name,branch,checked_in,at,via,makeup"
    assert sum(1 for line in lines[1:] if ",yes," in line) == 1
    assert len(lines) == 5
    assert lines[1].startswith("m1,党员乙,b1,yes,2026-11-25T09:00")
    out = tmp_path / "study.xlsx"
    assert _invoke(tmp_path, backend, "report", "study", "--date", "2026-11-25", "-o", str(out)).exit_code == 0
    book = openpyxl.load_workbook(out)
    missing = [row[0] for row in book["not_checked_in"].iter_rows(min_row=2, values_only=True)]
    assert missing == ["m2", "sec", "cw"]
    assert next(iter(book["day"].iter_rows(min_row=2, values_only=True)))[3:] == (4, 1, 3)
    assert _invoke(tmp_path, backend, "report", "study", "--date", "25/11").exit_code == 2
