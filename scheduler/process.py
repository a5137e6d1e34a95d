"""The scheduler process: APScheduler fires the JOBS table, only the elected leader runs job bodies.

Every process schedules every job but keeps its APScheduler paused until it holds the leader lock
(`LeaderLock("scheduler")`, renewed every lease/3 seconds). Becoming leader resumes it, so a run time
missed during a failover still fires within MISFIRE_GRACE (coalesced into one run); losing the lock pauses
it again. A run also checks that the lease was renewed recently, and per-date jobs are guarded by their
(job, date) row anyway, so even two leaders for a moment do a daily job's work once.

Triggers: `"HH:MM"` is a daily CronTrigger in `[app] timezone` (never `mon-fri`: workdays are decided
inside jobs, so 调休 Saturdays run), `"every 10m"` an IntervalTrigger. The date given to a job is
`clock.today()`. A per-date job that fails is retried after RETRY_DELAYS (same date: the failed row is
taken over). SIGTERM/SIGINT stop gracefully: running jobs finish, then the lock is released.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot import clock
from bot.config import parse_trigger
from bot.locks import LeaderLock, default_holder
from bot.runtime import Runtime
from scheduler import jobs
from scheduler.runner import JobFailed, run_job

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
DEFAULT_LEASE_SECONDS = 30.0
MISFIRE_GRACE = 900  # seconds: a run time missed by less (failover, busy executor) still runs, once
RETRY_DELAYS = (60.0, 300.0, 900.0)  # seconds after a failed per-date run


def make_trigger(value: str, tz: ZoneInfo) -> BaseTrigger:
    kind, spec = parse_trigger(value)
    if isinstance(spec, dt.time):
        return CronTrigger(hour=spec.hour, minute=spec.minute, timezone=tz)
    assert kind == "interval"
    return IntervalTrigger(seconds=spec, timezone=tz)


class SchedulerProcess:
    """One scheduler process; `run()` blocks until `stop()` (or a signal via `serve`)."""

    def __init__(self, runtime: Runtime, holder: str | None = None,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self.runtime = runtime
        self.tz = runtime.config.app.tz
        self.lock = LeaderLock(runtime, LOCK_NAME, holder or default_holder(), lease_seconds)
        self.lease_seconds = lease_seconds
        self.is_leader = False
        self._valid_until = 0.0  # monotonic: runs stop when the lease was not renewed in time
        self._stop = threading.Event()
        self._retries: dict[tuple[str, dt.date], int] = {}
        self.scheduler = BackgroundScheduler(timezone=self.tz, job_defaults={
            "coalesce": True, "misfire_grace_time": MISFIRE_GRACE, "max_instances": 1})

    @property
    def holder(self) -> str:
        return self.lock.holder

    def add_jobs(self) -> None:
        for entry in jobs.load().values():
            trigger = entry.trigger(self.runtime.config)
            self.scheduler.add_job(self.fire, make_trigger(trigger, self.tz), args=[entry.id],
                                   id=entry.id, name=entry.id)
            log.info("job %s: %s", entry.id, trigger)

    def fire(self, job_id: str, date: dt.date | None = None) -> str | None:
        """What a trigger calls: run the job for today (or `date`, for a retry) if we are the leader."""
        if not self.is_leader or clock.monotonic() > self._valid_until:
            log.debug("job %s: not the leader, not running it", job_id)
            return None
        day = date or clock.today()
        try:
            return run_job(self.runtime, job_id, day)
        except JobFailed as exc:
            self._schedule_retry(job_id, day, exc)
        except SQLAlchemyError:
            log.exception("job %s for %s: database error", job_id, day)
            self._schedule_retry(job_id, day, None)
        return None

    def _schedule_retry(self, job_id: str, day: dt.date, exc: JobFailed | None) -> None:
        if not jobs.get(job_id).per_date:
            return  # an interval job simply runs again at its next interval
        attempt = self._retries.get((job_id, day), 0)
        if attempt >= len(RETRY_DELAYS):
            log.error("job %s for %s: giving up after %d retries (dangjian run-job %s --date %s)",
                      job_id, day, attempt, job_id, day)
            return
        self._retries[(job_id, day)] = attempt + 1
        delay = RETRY_DELAYS[attempt]
        when = dt.datetime.fromtimestamp(clock.wall() + delay, self.tz)
        self.scheduler.add_job(self.fire, "date", run_date=when, args=[job_id, day],
                               id=f"{job_id}:retry:{day}:{attempt + 1}", replace_existing=True)
        log.warning("job %s for %s: retry %d in %.0f s%s", job_id, day, attempt + 1, delay,
                    f" after: {exc.error}" if exc else "")

    def elect(self) -> bool:
        """One election step: renew if leader, else try to take the lock. Returns whether we lead."""
        if self.is_leader:
            if self.lock.renew():
                self._valid_until = clock.monotonic() + self.lease_seconds * 0.9
                return True
            self.is_leader = False
            self.scheduler.pause()
            log.warning("scheduler %s lost the leader lock; now a follower", self.holder)
            return False
        if self.lock.acquire():
            self.is_leader = True
            self._valid_until = clock.monotonic() + self.lease_seconds * 0.9
            log.info("scheduler %s is the leader (lock backend: %s)", self.holder, self.lock.backend)
            self.scheduler.resume()
        return self.is_leader

    def run(self) -> None:
        self.add_jobs()
        self.scheduler.start(paused=True)
        log.info("scheduler %s started: %d jobs, lease %.1f s", self.holder,
                 len(self.scheduler.get_jobs()), self.lease_seconds)
        try:
            if not self.elect():
                log.info("scheduler %s is a follower: another process holds the leader lock", self.holder)
            while not self._stop.wait(self.lease_seconds / 3):
                self.elect()
        finally:
            self.is_leader = False
            self.scheduler.shutdown(wait=True)
            self.lock.release()
            log.info("scheduler %s stopped", self.holder)

    def stop(self) -> None:
        self._stop.set()


def serve(runtime: Runtime, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
    """Run a scheduler process in the foreground until SIGTERM or SIGINT."""
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # no line per run
    proc = SchedulerProcess(runtime, lease_seconds=lease_seconds)

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("scheduler %s: %s received, stopping", proc.holder, signal.Signals(signum).name)
        proc.stop()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        proc.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
