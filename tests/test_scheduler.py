"""The scheduler: run-job guard, workday skips, `jobs` next runs, housekeeping.

Leader election and real scheduler processes: test_scheduler_processes.py.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import select

from bot import clock
from bot.cli import cli
from bot.models import AuditLog, Delivery, InboundMessage, JobRun, OutboundMessage
from bot.runtime import Runtime
from scheduler import registry
from scheduler.registry import Job, next_run
from scheduler.runner import JobFailed, run_job
from tests.conftest import DEFAULT_NOW, make_runtime

NOW_TEXT = "2026-11-25T09:00"  # DEFAULT_NOW, a Wednesday


def invoke(tmp_path: Path, url: str, *args: str, now: str = NOW_TEXT) -> Result:
    config = tmp_path / "cli.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(config), *args], env={"DANGJIAN_NOW": now})


def add_job(monkeypatch: pytest.MonkeyPatch, entry: Job) -> Job:
    monkeypatch.setitem(registry.JOBS, entry.id, entry)
    return entry


def runs(rt: Runtime, job_id: str) -> list[JobRun]:
    with rt.session() as s:
        return list(s.exec(select(JobRun).where(JobRun.job == job_id).order_by(JobRun.run_date)))


# -- run-job --------------------------------------------------------------------------------------


def test_run_job_twice_for_the_same_date_prints_already_done(backend: str, tmp_path: Path) -> None:
    first = invoke(tmp_path, backend, "run-job", "housekeeping")
    second = invoke(tmp_path, backend, "run-job", "housekeeping")
    other_day = invoke(tmp_path, backend, "run-job", "housekeeping", "--date", "2026-11-24")
    assert (first.exit_code, first.stdout) == (0, "done\n")
    assert (second.exit_code, second.stdout) == (0, "already done\n")
    assert (other_day.exit_code, other_day.stdout) == (0, "done\n")
    rt = make_runtime(backend)
    try:
        rows = runs(rt, "housekeeping")
        assert [(r.run_date, r.status) for r in rows] == [
            (dt.date(2026, 11, 24), "done"), (dt.date(2026, 11, 25), "done")]
        assert rows[1].detail == "inbound=0 deliveries=0 messages=0"
        with rt.session() as s:
            audits = list(s.exec(select(AuditLog).where(AuditLog.action == "housekeeping")))
        assert sorted(a.target for a in audits) == ["2026-11-24", "2026-11-25"]
    finally:
        rt.close()


def test_unknown_job_and_bad_date_exit_2(sqlite_url: str, tmp_path: Path) -> None:
    unknown = invoke(tmp_path, sqlite_url, "run-job", "no_such_job")
    assert unknown.exit_code == 2
    assert "unknown job 'no_such_job'" in unknown.stderr
    assert unknown.stdout == ""
    bad_date = invoke(tmp_path, sqlite_url, "run-job", "housekeeping", "--date", "2026-02-30")
    assert bad_date.exit_code == 2
    assert "--date" in bad_date.stderr


def test_workday_job_skips_saturday_and_runs_on_make_up_saturday(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dt.date] = []

    def desk(_rt: Runtime, date: dt.date) -> str:
        calls.append(date)
        return "sent"

    add_job(monkeypatch, Job("desk_check", desk, when="workdays", default="07:50"))
    saturday = invoke(tmp_path, sqlite_url, "run-job", "desk_check", "--date", "2026-10-17")
    assert (saturday.exit_code, saturday.stdout) == (0, "skipped\n")
    assert calls == []
    make_up = invoke(tmp_path, sqlite_url, "run-job", "desk_check", "--date", "2026-10-10")  # 调休
    assert (make_up.exit_code, make_up.stdout) == (0, "done\n")
    assert calls == [dt.date(2026, 10, 10)]
    again = invoke(tmp_path, sqlite_url, "run-job", "desk_check", "--date", "2026-10-17")
    assert (again.exit_code, again.stdout) == (0, "skipped\n")
    rt = make_runtime(sqlite_url)
    try:
        assert [(r.run_date, r.status, r.detail) for r in runs(rt, "desk_check")] == [
            (dt.date(2026, 10, 10), "done", "sent"),
            (dt.date(2026, 10, 17), "skipped", "2026-10-17 is not a workday")]
    finally:
        rt.close()


def test_failing_job_exits_1_with_the_error(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_rt: Runtime, _date: dt.date) -> None:
        raise RuntimeError("template missing")

    add_job(monkeypatch, Job("broken", broken))
    result = invoke(tmp_path, sqlite_url, "run-job", "broken")
    assert result.exit_code == 1
    assert "job broken for 2026-11-25 failed: RuntimeError: template missing" in result.stderr


# -- jobs -----------------------------------------------------------------------------------------


def test_jobs_lists_trigger_and_next_run_from_the_business_clock(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_job(monkeypatch, Job("noon", lambda _rt, _d: None, default="12:00"))
    add_job(monkeypatch, Job("ticker", lambda _rt, _d: None, per_date=False, default="every 10m"))
    result = invoke(tmp_path, sqlite_url, "jobs")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "housekeeping\t03:30 daily\t2026-11-26T03:30:00+08:00" in lines
    assert "noon\t12:00 daily\t2026-11-25T12:00:00+08:00" in lines
    assert "ticker\tevery 10m\t2026-11-25T09:10:00+08:00" in lines
    assert "morning_study\t07:50 workdays\t2026-11-26T07:50:00+08:00" in lines
    assert "birthday_list\t08:30 on the 1st\t2026-12-01T08:30:00+08:00" in lines
    assert all(len(line.split("\t")) == 3 for line in lines)
    year_end = invoke(tmp_path, sqlite_url, "jobs", now="2026-12-31T15:45:00+00:00")  # 23:45 local
    assert "housekeeping\t03:30 daily\t2027-01-01T03:30:00+08:00" in year_end.stdout.splitlines()


def _next_runs(result: Result) -> dict[str, str]:
    return {line.split("\t")[0]: line.split("\t")[2] for line in result.stdout.splitlines()}


@pytest.mark.parametrize(("now", "morning", "birthday_list"), [
    ("2026-11-27T09:00", "2026-11-30T07:50:00+08:00", "2026-12-01T08:30:00+08:00"),  # Friday -> Monday
    ("2026-11-29T06:00", "2026-11-30T07:50:00+08:00", "2026-12-01T08:30:00+08:00"),  # a Sunday morning
    ("2026-10-09T09:00", "2026-10-10T07:50:00+08:00", "2026-11-01T08:30:00+08:00"),  # 调休 Saturday runs
    ("2026-09-30T09:00", "2026-10-08T07:50:00+08:00", "2026-10-01T08:30:00+08:00"),  # National Day week
    ("2027-02-04T09:00", "2027-02-11T07:50:00+08:00", "2027-03-01T08:30:00+08:00"),  # 2027 Spring Festival
    ("2026-12-01T08:00", "2026-12-01T07:50:00+08:00", "2026-12-01T08:30:00+08:00"),  # 1st, before 08:30
])
def test_jobs_next_run_follows_the_workday_calendar_and_the_1st(
        sqlite_url: str, tmp_path: Path, now: str, morning: str, birthday_list: str) -> None:
    if now.startswith("2026-12-01"):
        morning = "2026-12-02T07:50:00+08:00"  # 07:50 has passed at 08:00
    result = invoke(tmp_path, sqlite_url, "jobs", now=now)
    assert result.exit_code == 0
    runs = _next_runs(result)
    assert runs["morning_study"] == morning
    assert runs["birthday_list"] == birthday_list


def test_jobs_warns_on_stderr_when_the_calendar_lacks_a_year(sqlite_url: str, tmp_path: Path) -> None:
    november = invoke(tmp_path, sqlite_url, "jobs", now="2026-11-29T10:00")
    assert november.exit_code == 0
    assert "no official data for 2027" in november.stderr
    assert "extra_workdays" in november.stderr
    assert all(len(line.split("\t")) == 3 for line in november.stdout.splitlines())
    october = invoke(tmp_path, sqlite_url, "jobs", now="2026-10-29T10:00")
    assert october.exit_code == 0
    assert october.stderr == ""


def test_jobs_uses_extra_workdays_in_a_year_without_official_data(sqlite_url: str, tmp_path: Path) -> None:
    config = tmp_path / "cli.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n[calendar]\nextra_workdays = [2027-02-06]\n',
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "jobs"], env={"DANGJIAN_NOW": "2027-02-04T09:00"})
    assert result.exit_code == 0
    assert _next_runs(result)["morning_study"] == "2027-02-06T07:50:00+08:00"


def test_long_running_commands_warn_about_the_calendar_at_start_up(
        sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.clock"):
        result = invoke(tmp_path, sqlite_url, "worker", "--once", now="2026-11-29T10:00")
    assert result.exit_code == 0
    warnings = [r for r in caplog.records if r.name == "bot.clock" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "no official data for 2027" in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.clock"):
        invoke(tmp_path, sqlite_url, "worker", "--once", now="2026-10-29T10:00")
    assert [r for r in caplog.records if r.name == "bot.clock"] == []


def test_next_run_edges() -> None:
    at = DEFAULT_NOW.replace(hour=3, minute=30)
    assert next_run("03:30", at) == at + dt.timedelta(days=1)
    assert next_run("03:31", at) == at + dt.timedelta(minutes=1)
    assert next_run("every 2h", at) == at + dt.timedelta(hours=2)
    saturday = dt.datetime(2026, 11, 28, 9, 0, tzinfo=clock.tz())
    assert next_run("07:50", saturday, "workdays") == dt.datetime(2026, 11, 30, 7, 50, tzinfo=clock.tz())
    assert next_run("07:50", saturday, "monthly") == dt.datetime(2026, 12, 1, 7, 50, tzinfo=clock.tz())
    with pytest.raises(ValueError, match="when must be one of"):
        Job("bad", lambda _rt, _d: None, when="weekly")


def test_monthly_job_skips_other_days(sqlite_url: str, tmp_path: Path) -> None:
    second = invoke(tmp_path, sqlite_url, "run-job", "birthday_list", "--date", "2026-12-02")
    assert (second.exit_code, second.stdout) == (0, "skipped\n")
    first = invoke(tmp_path, sqlite_url, "run-job", "birthday_list", "--date", "2026-12-01")
    assert (first.exit_code, first.stdout) == (0, "done\n")


def test_concurrent_runs_do_the_work_once(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[dt.date] = []
    add_job(monkeypatch, Job("once", lambda _rt, d: done.append(d) or "ok"))
    rt = make_runtime(backend)
    barrier = threading.Barrier(6)
    results: list[str] = []

    def worker() -> None:
        barrier.wait(timeout=10)
        results.append(run_job(rt, "once", clock.today()))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(results) == ["already done"] * 5 + ["done"]
        assert done == [clock.today()]
    finally:
        rt.close()


def test_failed_run_is_recorded_and_taken_over(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    def flaky(_rt: Runtime, _date: dt.date) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("upstream down")
        return "recovered"

    add_job(monkeypatch, Job("flaky", flaky))
    with pytest.raises(JobFailed, match="upstream down"):
        run_job(rt, "flaky", clock.today())
    [row] = runs(rt, "flaky")
    assert (row.status, row.detail) == ("failed", "ConnectionError: upstream down")
    assert run_job(rt, "flaky", clock.today()) == "done"
    assert run_job(rt, "flaky", clock.today()) == "already done"
    [row] = runs(rt, "flaky")
    assert (row.status, row.detail, len(attempts)) == ("done", "recovered", 2)


def test_interval_jobs_are_not_guarded_per_date(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dt.date] = []
    add_job(monkeypatch, Job("tick", lambda _rt, d: calls.append(d), per_date=False, default="every 1m"))
    assert run_job(rt, "tick", clock.today()) == "done"
    assert run_job(rt, "tick", clock.today()) == "done"
    assert len(calls) == 2
    assert runs(rt, "tick") == []


def test_job_guard_follows_the_default_trigger() -> None:
    assert Job("daily_thing", lambda _rt, _d: None, default="08:00").per_date is True
    assert Job("polling_thing", lambda _rt, _d: None, default="every 5m").per_date is False
    assert Job("forced", lambda _rt, _d: None, default="every 5m", per_date=True).per_date is True
    assert registry.JOBS["ticket_escalation"].per_date is False
    assert registry.JOBS["morning_study"].per_date is True


# -- housekeeping ---------------------------------------------------------------------------------


def test_housekeeping_purges_old_rows_and_audits(rt: Runtime) -> None:
    now = clock.now()
    old, recent = now - dt.timedelta(days=200), now - dt.timedelta(days=10)
    with rt.write() as s:
        s.add(InboundMessage(dedup_key="old", channel="wecom", sender="u1", msg_type="text",
                             received_at=now - dt.timedelta(days=100)))
        s.add(InboundMessage(dedup_key="new", channel="wecom", sender="u1", msg_type="text", received_at=recent))
        messages = {k: OutboundMessage(key=k, channel="wecom", kind="text", payload="{}", created_at=at)
                    for k, at in (("m1", old), ("m2", old), ("m3", recent), ("m4", old))}
        s.add_all(messages.values())
        s.flush()
        for key, recipient, status, at in (("m1", "a", "sent", old), ("m1", "b", "queued", old),
                                           ("m2", "a", "failed", old), ("m3", "a", "sent", recent)):
            s.add(Delivery(message_id=messages[key].id, recipient=recipient, status=status, created_at=at))
    assert run_job(rt, "housekeeping", clock.today()) == "done"
    with rt.session() as s:
        assert [m.dedup_key for m in s.exec(select(InboundMessage))] == ["new"]
        assert sorted(m.key for m in s.exec(select(OutboundMessage))) == ["m1", "m3"]
        assert sorted(d.status for d in s.exec(select(Delivery))) == ["queued", "sent"]
        [audit] = s.exec(select(AuditLog).where(AuditLog.action == "housekeeping"))
    detail = json.loads(audit.detail)
    assert (detail["inbound"], detail["deliveries"], detail["messages"]) == (1, 2, 2)
    assert (audit.actor, audit.target) == ("scheduler", "2026-11-25")


def test_housekeeping_reads_retention_from_config(sqlite_url: str) -> None:
    rt = make_runtime(sqlite_url, retention={"inbound_days": 5})
    try:
        with rt.write() as s:
            s.add(InboundMessage(dedup_key="week-old", channel="wecom", sender="u1", msg_type="text",
                                 received_at=clock.now() - dt.timedelta(days=7)))
        assert run_job(rt, "housekeeping", clock.today()) == "done"
        [row] = runs(rt, "housekeeping")
        assert row.detail == "inbound=1 deliveries=0 messages=0"
    finally:
        rt.close()
