"""The morning card to a roster through the fake WeCom API, `import-content` and `report study` CLIs."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot import clock, outbox
from bot.cli import cli
from bot.models import Branch, JobRun, OutboundMessage, StudyDay, StudyItem
from bot.services.study import content as study_content
from bot.services.study import core as study
from bot.services.study import push as study_push
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
        from bot.services.study import checkin as study_checkin

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


@pytest.mark.parametrize("day", ["2026-11-28", "2026-10-01"])  # a Saturday, National Day
def test_report_study_on_a_day_without_study_has_no_rows(backend, tmp_path, day):
    rt = make_runtime(backend)
    add_roster(rt)
    rt.close()
    result = _invoke(tmp_path, backend, "report", "study", "--date", day)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["userid,name,branch,checked_in,at,via,makeup"]  # not everyone as "no"
    assert f"{day} is not a study day" in result.stderr
    out = tmp_path / "study.xlsx"
    assert _invoke(tmp_path, backend, "report", "study", "--date", day, "-o", str(out)).exit_code == 0
    book = openpyxl.load_workbook(out)
    assert list(book["not_checked_in"].iter_rows(min_row=2, values_only=True)) == []
    assert next(iter(book["day"].iter_rows(min_row=2, values_only=True)))[3:] == (0, 0, 0)


@pytest.mark.parametrize("day", [dt.date(2027, 2, 8), dt.date(2027, 10, 4), dt.date(2027, 1, 1)])
def test_2027_holidays_are_not_push_days(backend, day):
    """chinese-calendar has no 2027 data: Spring Festival, National Day (observed) and New Year's Day come
    from holidays.China, so no card goes out."""
    rt = make_runtime(backend)
    try:
        add_roster(rt)
        add_items(rt, item("a1"))
        assert run_job(rt, "morning_study", day) == "skipped"
        assert run_job(rt, "study_reminder", day) == "skipped"
        with rt.session() as s:
            assert s.exec(select(StudyDay)).first() is None
    finally:
        rt.close()


def test_a_2027_saturday_in_extra_workdays_is_a_push_day(backend):
    saturday = dt.date(2027, 2, 20)
    plain = make_runtime(backend)
    try:
        assert run_job(plain, "morning_study", saturday) == "skipped"
    finally:
        plain.close()
    rt = make_runtime(backend, calendar={"extra_workdays": [saturday]})
    try:
        add_roster(rt)
        add_items(rt, item("a1"))
        assert run_job(rt, "morning_study", dt.date(2027, 2, 27)) == "skipped"  # a Saturday not listed
        assert run_job(rt, "morning_study", saturday) == "done"
        with rt.session() as s:
            assert study.get_day(s, saturday) is not None
            keys = list(s.exec(select(OutboundMessage.key)))
        assert keys == ["study:2027-02-20:wecom"]
    finally:
        rt.close()


def test_the_sample_library_runs_out_into_wengu_not_skips(sqlite_url):
    """The sample library lasts one workday per item; the next workday re-sends the oldest one as 温故."""
    rt = make_runtime(sqlite_url)
    try:
        add_roster(rt)
        with rt.session() as s:
            assert study_content.seed_library(s)
            size = len(list(s.exec(select(StudyItem))))
        day = dt.date(2026, 11, 23)
        details = []
        for _ in range(size + 2):
            day = clock.next_workday(day, include=True)
            assert run_job(rt, "morning_study", day) == "done"
            with rt.session() as s:
                details.append(s.exec(select(JobRun.detail).where(JobRun.job == "morning_study",
                                                                  JobRun.run_date == day)).one())
            day += dt.timedelta(days=1)
        assert not any(d.endswith(" review") for d in details[:size])
        assert all(d.endswith(" review") for d in details[size:])
        with rt.session() as s:
            first = s.get(StudyItem, study.get_day(s, dt.date(2026, 11, 23)).item_id)
        assert details[size].startswith(f"item={first.slug} ")  # the least recently pushed: the first
    finally:
        rt.close()
