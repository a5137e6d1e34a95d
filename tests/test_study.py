"""Morning study services on SQLite and PostgreSQL: calendar, rotation, urgent items, import, check-in,
streaks, answers, reflections, make-up requests, reminders and the gap alert."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import func, select

from bot import wording
from bot.config import StudyConfig
from bot.models import Approval, CheckIn, Delivery, JobRun, LedgerEntry, OutboundMessage, StudyAnswer, StudyItem
from bot.services import approvals
from bot.services.study import checkin as study_checkin
from bot.services.study import content as study_content
from bot.services.study import core as study
from bot.services.study import makeup as study_makeup
from bot.services.study import push as study_push
from bot.services.study.checkin import StudyError
from scheduler.runner import run_job
from tests.conftest import make_runtime
from tests.helpers import add_roster
from tests.study_helpers import add_items, at_day, get_item, item, member

WED = dt.date(2026, 11, 25)


@pytest.fixture
def srt(rt):
    add_roster(rt)
    return rt


def _ledger(rt, userid, rule):
    with rt.session() as s:
        m = member(s, userid)
        return list(s.exec(select(LedgerEntry).where(LedgerEntry.member_id == m.id, LedgerEntry.rule == rule)))


def test_calendar_weekend_holiday_make_up_day_and_2027(srt):
    add_items(srt, *(item(f"a{n}", "健康知识") for n in range(6)))
    with srt.session() as s:
        assert study.item_for(s, dt.date(2026, 11, 28)) is None  # Saturday
        assert study.item_for(s, dt.date(2026, 10, 1)) is None  # National Day
        assert study.item_for(s, dt.date(2026, 10, 10)) is not None  # 调休 Saturday works
        assert study.item_for(s, dt.date(2027, 3, 1)) is not None  # beyond the calendar's data: Mon-Fri
        assert study.item_for(s, dt.date(2027, 3, 6)) is None
    assert study.day_kind(dt.date(2026, 10, 8)) == "weekly"  # first workday after the holiday
    assert study.day_kind(dt.date(2026, 10, 9)) == "ordinary"
    assert study.day_kind(dt.date(2026, 10, 10)) == "ethics"  # the make-up Saturday ends the week
    assert study.day_kind(dt.date(2026, 11, 23)) == "weekly"
    assert study.day_kind(dt.date(2026, 11, 27)) == "ethics"


def test_rotation_weekly_key_ethics_and_least_recently_used_series(srt):
    add_items(srt, item("w1", "理论摘编", weekly_key=True), item("a1", "理论摘编"), item("b1", "伦理典故"),
              item("c1", "政策法规"), item("e1", "道德讲堂"), item("e2", "道德讲堂"),
              item("d1", "廉政建设", status="draft"))
    picked = []
    with srt.session() as s:
        for day in range(23, 28):
            picked.append(study.item_for(s, dt.date(2026, 11, day)).slug)
        picked.append(study.item_for(s, dt.date(2026, 11, 30)).slug)
        assert study.item_for(s, dt.date(2026, 12, 1)) is None  # only the draft is left
    assert picked == ["w1", "b1", "c1", "e1", "e2", "a1"]


def test_the_choice_is_kept_and_explicit_dates_win(srt):
    add_items(srt, item("a1", "理论摘编"), item("b1", "伦理典故"), item("x1", "会议文件", publish_on="2026-11-26"),
              item("x2", "会议文件", publish_on="2026-11-25", status="draft"))
    with srt.session() as s:
        first = study.item_for(s, WED).slug
    with srt.session() as s:
        assert study.item_for(s, WED).slug == first == "a1"  # the draft with a date never goes out
        assert study.item_for(s, dt.date(2026, 11, 26)).slug == "x1"


def test_urgent_item_replaces_the_day(srt):
    add_items(srt, item("a1"), item("b1", "伦理典故"))
    with srt.session() as s:
        assert study.item_for(s, WED).slug == "a1"
    add_items(srt, item("u1", "会议文件", urgent=True))  # no date: today
    with srt.session() as s:
        assert study.item_for(s, WED).slug == "u1"
        assert get_item(s, "a1").status == "reviewed"  # back in the rotation
        assert get_item(s, "u1").publish_on == WED


def test_import_files_folder_and_errors(srt, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "one.md").write_text(
        "+++\nslug = \"md-one\"\nseries = \"健康知识\"\ntitle = \"睡眠\"\nsummary = \"早睡早起\"\n"
        "question = \"成年人每天睡几个小时为宜？\"\nanswer = \"7|七\"\nstatus = \"reviewed\"\n"
        "+++\n第一段。\n\n第二段。\n",
        encoding="utf-8")
    (tmp_path / "lib" / "two.md").write_text(
        "---\nslug: md-two\nseries: 读书集萃\ntitle: 读书\nsummary: 好书\n---\n正文。\n", encoding="utf-8")
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["编号", "栏目", "标题", "摘要", "正文", "状态"])
    book.active.append(["x-one", "廉政建设", "廉洁", "守纪律", "正文内容", "reviewed"])
    book.save(tmp_path / "lib" / "three.xlsx")
    with srt.session() as s:
        result = study_content.import_path(s, tmp_path / "lib", "test")
        assert (result.created, result.updated) == (3, 0)
        assert get_item(s, "md-one").body == "第一段。\n\n第二段。"
        assert get_item(s, "md-two").status == "draft"
        again = study_content.import_path(s, tmp_path / "lib", "test")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[items]]\nslug = \"ok-1\"\nseries = \"党课团课\"\ntitle = \"t\"\nsummary = \"" + "长" * 121
                   + "\"\nbody = \"b\"\n[[items]]\nslug = \"ok-2\"\nseries = \"外星栏目\"\n", encoding="utf-8")
    with pytest.raises(study_content.ContentError) as err:
        study_content.load(bad)
    assert err.value.errors[0] == f"{bad} [items 1]: summary is 121 characters, over 120"
    assert err.value.errors[1].startswith(f"{bad} [items 2]: series must be one of")


def test_check_in_needs_the_item_and_counts_once(srt):
    add_items(srt, item("a1"))
    with srt.session() as s:
        with pytest.raises(StudyError, match="还没有发给您"):
            study_checkin.check_in(s, srt.config, member(s, "m1"))
    with srt.session() as s:
        study_push.show_today(s, srt.config, member(s, "m1"))
    with srt.session() as s:
        first = study_checkin.check_in(s, srt.config, member(s, "m1"))
    with srt.session() as s:
        second = study_checkin.check_in(s, srt.config, member(s, "m1"))
        assert s.exec(select(func.count()).select_from(CheckIn)).one() == 1
    assert (first.created, first.streak, first.month, first.points) == (True, 1, 1, 1)
    assert (second.created, second.points) == (False, 0)
    assert [e.points for e in _ledger(srt, "m1", "study_checkin")] == [1]


def test_streak_counts_study_days_across_a_holiday(srt):
    add_items(srt, *(item(f"a{n}", "健康知识") for n in range(6)))
    for day in (dt.date(2026, 9, 29), dt.date(2026, 9, 30), dt.date(2026, 10, 8)):
        at_day(day)
        with srt.session() as s:
            study_push.show_today(s, srt.config, member(s, "m1"))
            result = study_checkin.check_in(s, srt.config, member(s, "m1"))
    assert result.streak == 3  # the National Day week in between does not break it
    at_day(dt.date(2026, 10, 9))
    with srt.session() as s:
        study_push.show_today(s, srt.config, member(s, "m1"))
        assert study_checkin.streak(s, member(s, "m1").id, dt.date(2026, 10, 9)) == 3  # not yet today
    at_day(dt.date(2026, 10, 12))
    with srt.session() as s:
        study_push.show_today(s, srt.config, member(s, "m1"))
        assert study_checkin.check_in(s, srt.config, member(s, "m1")).streak == 1  # missed the 9th


def test_question_bonus_only_once(srt):
    add_items(srt, item("q1", question="党的一大在哪一年召开？", answer="1921|一九二一"))
    with srt.session() as s:
        study_push.show_today(s, srt.config, member(s, "m1"))
        answer = study_checkin.answer
        assert answer(s, srt.config, member(s, "m1"), "1949") == study_checkin.Answered(False)
        assert answer(s, srt.config, member(s, "m1"), "1921年") == study_checkin.Answered(True, 1, "1921")
        assert answer(s, srt.config, member(s, "m1"), "一九二一") == study_checkin.Answered(True, before=True)
        assert s.exec(select(func.count()).select_from(StudyAnswer)).one() == 2
    assert [e.points for e in _ledger(srt, "m1", "study_answer")] == [1]


def test_reflection_limits_and_one_bonus_a_day(srt):
    add_items(srt, item("a1"))
    with srt.session() as s:
        m1 = member(s, "m1")
        with pytest.raises(StudyError, match="至少"):
            study_checkin.reflect(s, srt.config, m1, "太短")
        with pytest.raises(StudyError, match="精简"):
            study_checkin.reflect(s, srt.config, m1, "长" * 501)
        first = study_checkin.reflect(s, srt.config, m1, "今天学习了理论摘编，收获很大，要落实到工作中。")
        assert first == study_checkin.Reflected(1, again=False)
        again = study_checkin.reflect(s, srt.config, m1, "再写一篇心得体会，继续加强学习。")
        assert again == study_checkin.Reflected(0, again=True)
    assert [e.points for e in _ledger(srt, "m1", "reflection")] == [1]


def _missed_monday(srt):
    add_items(srt, *(item(f"a{n}", "健康知识") for n in range(4)))
    at_day(dt.date(2026, 11, 23))
    with srt.session() as s:
        study.item_for(s, dt.date(2026, 11, 23))
    at_day(WED)


def test_make_up_request_approved_fills_the_day(srt):
    _missed_monday(srt)
    with srt.session() as s:
        for day, reason, needle in ((23, " ", "说明原因"), (25, "忘了", "过去"), (22, "周末", "没有晨学"),
                                    (2, "出差", "最近 5 个工作日")):
            with pytest.raises(StudyError, match=needle):
                study_makeup.request_makeup(s, srt.config, member(s, "m1"), dt.date(2026, 11, day), reason)
        request = study_makeup.request_makeup(s, srt.config, member(s, "m1"), dt.date(2026, 11, 23), "出差在外")
        with pytest.raises(StudyError, match="等待审批"):
            study_makeup.request_makeup(s, srt.config, member(s, "m1"), dt.date(2026, 11, 23), "出差在外")
        number = request.number
    with srt.session() as s:
        approvals.decide(s, srt.config, member(s, "sec"), number, True)
    with srt.session() as s:
        row = s.exec(select(CheckIn)).one()
        assert (row.date, row.makeup, row.via) == (dt.date(2026, 11, 23), True, "makeup")
        study_push.show_today(s, srt.config, member(s, "m1"))
        assert study_checkin.check_in(s, srt.config, member(s, "m1")).streak == 2  # Monday filled, Tuesday none
    entries = _ledger(srt, "m1", "makeup_checkin")
    assert [(e.points, e.actor, e.period) for e in entries] == [(1, "sec", dt.date(2026, 11, 23))]


def test_make_up_request_rejected_changes_nothing(srt):
    _missed_monday(srt)
    with srt.session() as s:
        number = study_makeup.request_makeup(s, srt.config, member(s, "m1"), dt.date(2026, 11, 23), "忘了").number
    with srt.session() as s:
        approvals.decide(s, srt.config, member(s, "sec"), number, False, "理由不充分")
    with srt.session() as s:
        assert s.exec(select(func.count()).select_from(CheckIn)).one() == 0
        assert s.exec(select(Approval)).one().status == "rejected"
    assert _ledger(srt, "m1", "makeup_checkin") == []


def _deliveries(rt, key_prefix, status=None):
    """Recipients of the rows to send (a row held by 免打扰 is recorded `skipped`, never sent)."""
    with rt.session() as s:
        rows = s.exec(select(Delivery.recipient).join(OutboundMessage, OutboundMessage.id == Delivery.message_id)
                      .where(OutboundMessage.key.startswith(key_prefix))
                      .where(Delivery.status == status if status else Delivery.status != "skipped"))
        return sorted(rows)


def test_morning_push_then_reminder_only_to_non_completers_once(srt):
    add_items(srt, item("a1"))
    with srt.session() as s:
        m2 = member(s, "m2")
        m2.do_not_disturb = True
        s.add(m2)
    assert run_job(srt, "morning_study", WED) == "done"
    assert run_job(srt, "morning_study", WED) == "already done"
    assert _deliveries(srt, "study:2026-11-25") == ["cw", "m1", "sec"]  # not 免打扰, not inactive
    assert _deliveries(srt, "study:2026-11-25", "skipped") == ["m2"]  # held by 免打扰, recorded with the reason
    with srt.session() as s:
        assert "已完成" not in wording.checked_in(study_checkin.check_in(s, srt.config, member(s, "m1")))
        assert get_item(s, "a1").status == "published"
    assert run_job(srt, "study_reminder", WED) == "done"
    assert run_job(srt, "study_reminder", WED) == "already done"
    with srt.session() as s:
        assert study_push.remind(s, srt.config, WED) == 2  # forced again: same key, nothing new
    assert _deliveries(srt, "study_reminder:2026-11-25") == ["cw", "sec"]
    assert run_job(srt, "morning_study", dt.date(2026, 11, 28)) == "skipped"


def test_gap_alert_tells_editors_when_tomorrow_is_empty(srt):
    with srt.session() as s:
        s.add(member(s, "m2"))
        member(s, "m2").roles = "member;editor"
    add_items(srt, item("a1"), item("d1", status="draft"))
    with srt.session() as s:
        study.item_for(s, WED)
    assert run_job(srt, "content_gap_alert", WED) == "done"
    assert _deliveries(srt, "study_gap:2026-11-26") == ["m2"]
    with srt.session() as s:
        payload = s.exec(select(OutboundMessage.payload).where(OutboundMessage.key.startswith("study_gap"))).one()
    assert "2026-11-26" in payload
    assert "1 篇" in payload


def test_gap_alert_quiet_when_an_item_is_ready(srt):
    add_items(srt, item("a1"), item("b1"))
    assert run_job(srt, "content_gap_alert", WED) == "done"
    assert _deliveries(srt, "study_gap") == []
    with srt.session() as s:
        assert s.exec(select(func.count()).select_from(StudyItem)).one() == 2


def test_reminder_skips_configured_member_types_and_makeup_window(srt):
    add_items(srt, item("a1"), item("a2"))
    with srt.session() as s:
        study_push.morning(s, srt.config, WED)
    cfg = srt.config.replace(study=StudyConfig(remind_exclude=("retired",), makeup_days=1))
    with srt.session() as s:
        assert study_push.remind(s, cfg, WED) == 3  # m2 is retired: no reminder
        assert study_makeup.earliest_makeup(cfg, WED) == dt.date(2026, 11, 24)
    assert _deliveries(srt, "study_reminder") == ["cw", "m1", "sec"]


def _card_titles(rt, day_prefix="study:"):
    with rt.session() as s:
        rows = s.exec(select(OutboundMessage.key, OutboundMessage.payload)
                      .where(OutboundMessage.key.startswith(day_prefix)).order_by(OutboundMessage.key))
        return {key.split(":")[1]: json.loads(payload)["main_title"]["title"] for key, payload in rows}


def test_when_the_library_runs_out_the_push_sends_wengu_and_the_day_counts(srt):
    """Two items over five workdays: days 3-5 re-send the least recently pushed item marked 「温故」; each
    day is `done`, check-ins count for streaks and points, and the editors still hear about the gap."""
    with srt.session() as s:
        member(s, "m2").roles = "member;editor"
    add_items(srt, item("a1"), item("b1", "伦理典故"))
    days = [dt.date(2026, 11, d) for d in (23, 24, 25, 26, 27)]
    results = []
    for day in days:
        at_day(day, 8)
        assert run_job(srt, "morning_study", day) == "done"
        assert run_job(srt, "content_gap_alert", day) == "done"
        with srt.session() as s:
            results.append(study_checkin.check_in(s, srt.config, member(s, "m1")))
    with srt.session() as s:
        chosen = [s.get(StudyItem, study.get_day(s, d).item_id).slug for d in days]
        reviews = [study.is_review(s, d) for d in days]
        details = [r.detail for r in s.exec(select(JobRun).where(JobRun.job == "morning_study")
                                            .order_by(JobRun.run_date))]
        statuses = {r.status for r in s.exec(select(JobRun).where(JobRun.job == "morning_study"))}
    assert chosen == ["a1", "b1", "a1", "b1", "a1"]  # the least recently pushed first
    assert reviews == [False, False, True, True, True]
    assert statuses == {"done"}
    assert details[2].endswith(" review")
    assert not details[1].endswith(" review")
    titles = _card_titles(srt)
    assert titles["2026-11-23"] == "标题a1"
    assert titles["2026-11-25"] == "「温故」标题a1"
    assert titles["2026-11-26"] == "「温故」标题b1"
    assert [r.streak for r in results] == [1, 2, 3, 4, 5]
    assert all(r.created and r.points == 1 for r in results)
    assert len(_ledger(srt, "m1", "study_checkin")) == 5
    # from the day the last reviewed item went out, the editor hears about the next day's gap every workday
    assert [d.isoformat() for d in days[2:]] + ["2026-11-30"] == sorted(
        key.split(":")[1] for key in _gap_keys(srt))
    assert _deliveries(srt, "study_gap:2026-11-30") == ["m2"]


def _gap_keys(rt):
    with rt.session() as s:
        return list(s.exec(select(OutboundMessage.key).where(OutboundMessage.key.startswith("study_gap"))))


def test_wengu_shows_in_study_and_the_reminder(srt):
    add_items(srt, item("a1"))
    with srt.session() as s:
        study_push.morning(s, srt.config, dt.date(2026, 11, 24))
        assert study_push.morning(s, srt.config, WED)[0].slug == "a1"
        assert study.fresh(s, WED) is None
        assert study_push.remind(s, srt.config, WED) == 3  # not m2: retired members are not reminded by default
    at_day(WED)
    with srt.session() as s:
        assert "「温故」标题a1" in wording.today(study_push.show_today(s, srt.config, member(s, "m1")))
        payloads = list(s.exec(select(OutboundMessage.payload)
                               .where(OutboundMessage.key.startswith("study_reminder:2026-11-25"))))
    assert payloads
    assert all("「温故」标题a1" in p for p in payloads)


def test_an_empty_library_still_skips(srt):
    assert run_job(srt, "morning_study", WED) == "skipped"
    add_items(srt, item("a1"))
    with srt.session() as s:
        assert study.item_for(s, dt.date(2026, 11, 24)).slug == "a1"  # chosen, not yet published
        assert study.item_for(s, WED) is None  # nothing published to review yet


def _import_content(url, path):
    from click.testing import CliRunner

    from bot.cli import cli

    env = {"DANGJIAN_DATABASE_URL": url, "DANGJIAN_CONFIG": None, "DANGJIAN_NOW": "2026-11-25T09:00"}
    return CliRunner().invoke(cli, ["import-content", str(path)], env=env, catch_exceptions=False)


def test_import_content_refuses_control_characters(backend, tmp_path):
    import zipfile

    import openpyxl

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.toml").write_text('slug = "t-one"\nseries = "健康知识"\ntitle = "睡\\u0000眠"\nsummary = "s"\n'
                                'body = "b"\n', encoding="utf-8")
    (lib / "b.md").write_text("---\nslug: m-one\nseries: 读书集萃\ntitle: 读书\nsummary: 好书\n---\n正\x00文。\n",
                              encoding="utf-8")
    (lib / "c.md").write_text("---\nslug: m-two\nseries: 读书集萃\ntitle: 好\nsummary: 好\n---\n正文\r\n\t第二段\n",
                              encoding="utf-8")  # tab and CRLF are fine
    book = openpyxl.Workbook()
    book.active.append(["编号", "栏目", "标题", "摘要", "正文"])
    book.active.append(["x-one", "廉政建设", "MARK", "守纪律", "正文内容"])
    book.save(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as src, zipfile.ZipFile(lib / "d.xlsx", "w") as out:
        for entry in src.infolist():
            data = src.read(entry.filename)
            out.writestr(entry, data.replace(b"MARK", b"A&#0;B") if entry.filename.endswith("sheet1.xml") else data)
    result = _import_content(backend, lib)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"{lib / 'a.toml'}: title contains a control character",
        f"{lib / 'b.md'}: body contains a control character",
        f"{lib / 'd.xlsx'} line 2: unreadable row (a cell contains a control character or the sheet is damaged)",
    ]
    rt = make_runtime(backend)
    with rt.session() as s:
        assert s.exec(select(func.count()).select_from(StudyItem)).one() == 0
    rt.close()


def test_study_pages_refuse_control_characters_and_send_security_headers(app_rt):
    client, rt = app_rt
    add_items(rt, item("a1"))
    with rt.session() as s:
        study.publish(s, get_item(s, "a1"))
    for path in ("/study/a1", "/study/nope", "/healthz", "/admin/login"):
        resp = client.get(path)
        assert resp.status_code in (200, 404), path
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp or "default-src 'none'" in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[-1].split(";")[0], path
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
        assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer"), path
        assert resp.headers["X-Frame-Options"] == "DENY", path
    for path in ("/study/%00", "/study/a1%00", "/study/%01x", "/study/a1?from=%00", "/study/a1?%1f=1"):
        refused = client.get(path)
        assert refused.status_code == 400, path
        assert "控制字符" in refused.get_data(as_text=True)
        assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/study/a1?from=wecom").status_code == 200


def test_import_content_reports_every_problem_of_an_item(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[items]]\nslug = "Bad Slug"\nseries = "外星栏目"\ntitle = ""\nsummary = "' + "长" * 121
                   + '"\nanswer = "x"\nstatus = "gone"\nurgent = "maybe"\ncolour = "red"\n'
                   '[[items]]\nslug = "fine-1"\nseries = "党课团课"\ntitle = "t"\nsummary = "s"\nbody = "b"\n',
                   encoding="utf-8")
    with pytest.raises(study_content.ContentError) as err:
        study_content.load(bad)
    where = f"{bad} [items 1]"
    assert sorted(err.value.errors) == sorted(f"{where}: {reason}" for reason in [
        "slug must be 1-80 characters a-z, 0-9 and -",
        "series must be one of " + "、".join(study_content.STUDY_SERIES),
        "title is required",
        "summary is 121 characters, over 120",
        "body is required",
        "answer given without a question",
        "urgent: expected true or false, got 'maybe'",
        "status must be one of draft, reviewed, scheduled, published",
        "unknown field 'colour'",
    ])
