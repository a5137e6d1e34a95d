"""Leader election: two schedulers in one process, then three real scheduler processes sharing one
PostgreSQL database (and one Redis): one leader, each date's work once, a killed leader is replaced."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot import clock
from bot.models import AuditLog, JobRun
from bot.runtime import Runtime
from scheduler import registry
from scheduler.process import SchedulerProcess
from scheduler.registry import Job
from tests.conftest import make_runtime

NOW_TEXT = "2026-11-25T09:00"  # DEFAULT_NOW, a Wednesday


def runs(rt: Runtime, job_id: str) -> list[JobRun]:
    with rt.session() as s:
        return list(s.exec(select(JobRun).where(JobRun.job == job_id).order_by(JobRun.run_date)))


def audits(rt: Runtime, action: str) -> list[AuditLog]:
    with rt.session() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


# -- leader election in-process -------------------------------------------------------------------


@pytest.fixture
def two_schedulers(sqlite_url: str) -> Iterator[tuple[SchedulerProcess, SchedulerProcess]]:
    rt = make_runtime(sqlite_url)
    procs = (SchedulerProcess(rt, "first", lease_seconds=1.5), SchedulerProcess(rt, "second", lease_seconds=1.5))
    threads = [threading.Thread(target=proc.run) for proc in procs]
    try:
        threads[0].start()
        assert _wait(lambda: procs[0].is_leader, 5)
        threads[1].start()  # starts once the first one leads
        assert _wait(lambda: procs[1].scheduler.running, 5)
        yield procs
    finally:
        for proc in procs:
            proc.stop()
        for t in threads:
            if t.is_alive():
                t.join(timeout=10)
        rt.close()


def _wait(condition: Callable[[], object], seconds: float) -> bool:
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if condition():
            return True
        threading.Event().wait(0.05)
    return bool(condition())


def test_only_the_leader_runs_jobs_and_a_follower_takes_over(
        two_schedulers: tuple[SchedulerProcess, SchedulerProcess], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = two_schedulers
    calls: list[dt.date] = []
    probe = Job("probe", lambda _rt, d: calls.append(d) or "ok", per_date=False, default="every 1h")
    monkeypatch.setitem(registry.JOBS, "probe", probe)
    assert _wait(lambda: first.is_leader, 5)
    assert second.is_leader is False
    assert second.fire("probe") is None
    assert first.fire("probe") == "done"
    assert calls == [clock.today()]
    first.stop()
    assert _wait(lambda: second.is_leader, 5)
    assert second.fire("probe") == "done"
    assert len(calls) == 2


# -- three real scheduler processes ---------------------------------------------------------------

LAUNCHER = '''
import os, runpy, sys
from bot import clock
from bot.models import AuditLog
from scheduler.registry import JOBS, Job

def _record(runtime, date, action):
    with runtime.write() as session:
        session.add(AuditLog(at=clock.now(), actor=str(os.getpid()), action=action, target=date.isoformat()))
    return str(os.getpid())

JOBS["probe_daily"] = Job("probe_daily", lambda rt, d: _record(rt, d, "probe_daily"), per_date=True, default="every 1s")
JOBS["probe_tick"] = Job("probe_tick", lambda rt, d: _record(rt, d, "probe_tick"), per_date=False, default="every 1s")
runpy.run_module("scheduler", run_name="__main__", alter_sys=True)
'''
REPO = Path(__file__).resolve().parent.parent


class Fleet:
    """Scheduler subprocesses with their logs; every child is killed on exit, whatever happened."""

    def __init__(self, tmp_path: Path, config: Path, argv: list[str], env: dict[str, str]) -> None:
        self.tmp_path, self.config, self.argv, self.env = tmp_path, config, argv, env
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        for i in range(count):
            log = (self.tmp_path / f"scheduler{i}.log").open("wb")
            self.procs.append(subprocess.Popen(
                [sys.executable, *self.argv, "--config", str(self.config), "--lease-seconds", "1.5"],
                cwd=self.tmp_path, env=self.env, stdout=log, stderr=subprocess.STDOUT))
            log.close()

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        index = self.procs.index(proc)
        return (self.tmp_path / f"scheduler{index}.log").read_text(encoding="utf-8", errors="replace")

    def leaders(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if "is the leader" in self.log(p)]

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            proc.wait(timeout=10)


@pytest.fixture
def fleet(tmp_path: Path, postgres_url: str, request: pytest.FixtureRequest) -> Iterator[Fleet]:
    lines = [f'[database]\nurl = "{postgres_url}"']
    if request.param in ("redis", "plain"):
        lines.append(f'[redis]\nurl = "{request.getfixturevalue("redis_url")}"\n'
                     f'prefix = "{request.getfixturevalue("redis_prefix")}"')
    config = tmp_path / "fleet.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "launch.py").write_text(LAUNCHER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env.update(DANGJIAN_NOW=NOW_TEXT, PYTHONPATH=str(REPO))
    argv = ["-m", "scheduler"] if request.param == "plain" else [str(tmp_path / "launch.py")]
    if request.param == "plain":
        env["DANGJIAN_SCHEDULE_HOUSEKEEPING"] = "every 1s"
    group = Fleet(tmp_path, config, argv, env)
    try:
        yield group
    finally:
        group.close()


@pytest.mark.parametrize("fleet", ["redis", "postgresql"], indirect=True)
def test_three_processes_one_leader_work_once_and_failover(fleet: Fleet, postgres_url: str) -> None:
    rt = make_runtime(postgres_url)
    try:
        fleet.start(3)
        assert _wait(lambda: len(audits(rt, "probe_tick")) >= 3, 25), [fleet.log(p) for p in fleet.procs]
        [leader] = fleet.leaders()
        ticks = audits(rt, "probe_tick")
        assert {a.actor for a in ticks} == {str(leader.pid)}
        [daily] = audits(rt, "probe_daily")
        assert (daily.actor, daily.target) == (str(leader.pid), "2026-11-25")

        leader.kill()  # no clean-up: the lock dies with its PostgreSQL session (Redis is never used for it)
        leader.wait(timeout=10)
        last_id = ticks[-1].id
        assert _wait(lambda: len([a for a in audits(rt, "probe_tick") if a.id > last_id]) >= 3, 15)
        survivors = [p for p in fleet.procs if p is not leader]
        [new_leader] = [p for p in fleet.leaders() if p is not leader]
        assert new_leader in survivors
        after = [a for a in audits(rt, "probe_tick") if a.id > last_id]
        assert {a.actor for a in after} == {str(new_leader.pid)}
        assert [a.actor for a in audits(rt, "probe_daily")] == [str(leader.pid)]  # still once for the date
        assert [(r.status, r.detail) for r in runs(rt, "probe_daily")] == [("done", str(leader.pid))]

        for proc in survivors:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=15) for proc in survivors] == [0, 0]
        assert all("stopped" in fleet.log(p) for p in survivors)
    finally:
        rt.close()


@pytest.mark.parametrize("fleet", ["plain"], indirect=True)
def test_python_m_scheduler_elects_one_leader_and_stops_on_sigterm(fleet: Fleet, postgres_url: str) -> None:
    """`python -m scheduler` as shipped, housekeeping every second: it runs once for the date."""
    rt = make_runtime(postgres_url)
    try:
        fleet.start(3)
        assert _wait(lambda: len(fleet.leaders()) >= 1 and all(
            "started" in fleet.log(p) for p in fleet.procs), 20), [fleet.log(p) for p in fleet.procs]
        assert _wait(lambda: runs(rt, "housekeeping"), 10)
        threading.Event().wait(2.5)  # more triggers fire: the (job, date) row keeps it at one run
        assert len(audits(rt, "housekeeping")) == 1
        [leader] = fleet.leaders()
        assert "job housekeeping for 2026-11-25: done" in fleet.log(leader)
        assert [(r.status, r.run_date) for r in runs(rt, "housekeeping")] == [("done", dt.date(2026, 11, 25))]
        for proc in fleet.procs:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=15) for proc in fleet.procs] == [0, 0, 0]
        assert all("stopped" in fleet.log(p) for p in fleet.procs)
    finally:
        rt.close()
