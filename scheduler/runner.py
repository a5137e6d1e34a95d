"""`run_job`: run one job for one date, at most once per (job, date) for per-date jobs.

The guard is the unique (job, run_date) constraint of `job_run`: a run first INSERTs its row with status
`running`; whoever loses that insert does not run the job. The row then ends as `done`, `skipped` or
`failed` (with the error). A later run for the same date takes over, by a compare-and-set UPDATE:
- a `failed` row (retry after an error: the scheduler retries a few times, `dangjian run-job` any time),
- a `skipped` row (the job asks again, e.g. after `[calendar] extra_workdays` changed),
- a `running` row older than STALE_AFTER in business time (its process died mid-run).
A `done` row, or a `running` one that is fresh, answers "already done".

Interval jobs (`per_date=False`) are not guarded here: they run every time and guard their own items.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot import clock
from bot.models import JobRun
from bot.runtime import Runtime
from scheduler import jobs
from scheduler.registry import Job, Skip

log = logging.getLogger(__name__)

DONE, ALREADY_DONE, SKIPPED = "done", "already done", "skipped"
STALE_AFTER = dt.timedelta(hours=6)
DETAIL_MAX = 500


class JobFailed(Exception):
    """The job raised; its (job, date) row is marked failed with the error, so a later run retries."""

    def __init__(self, job_id: str, date: dt.date, error: str) -> None:
        super().__init__(f"job {job_id} for {date} failed: {error}")
        self.job_id = job_id
        self.date = date
        self.error = error


def run_job(runtime: Runtime, job_id: str, date: dt.date) -> str:
    """Run `job_id` for `date`: returns "done", "already done" or "skipped"; raises UnknownJob, JobFailed."""
    entry = jobs.get(job_id)
    if not entry.per_date:
        return _outcome(_call(runtime, entry, date, None))
    row_id = _claim(runtime, entry.id, date)
    if row_id is None:
        log.info("job %s for %s: already done (or running elsewhere)", entry.id, date)
        return ALREADY_DONE
    result = _call(runtime, entry, date, row_id)
    status = _outcome(result)
    detail = result.reason if isinstance(result, Skip) else result
    _finish(runtime, row_id, status, detail)
    log.info("job %s for %s: %s%s", entry.id, date, status, f" ({detail})" if detail else "")
    return status


def _outcome(result: str | Skip | None) -> str:
    return SKIPPED if isinstance(result, Skip) else DONE


def _call(runtime: Runtime, entry: Job, date: dt.date, row_id: int | None) -> str | Skip | None:
    try:
        return entry.run(runtime, date)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("job %s for %s failed", entry.id, date)
        if row_id is not None:
            _finish(runtime, row_id, "failed", error)
        raise JobFailed(entry.id, date, error) from exc
    except BaseException:
        if row_id is not None:
            _finish(runtime, row_id, "failed", "interrupted")
        raise


def _claim(runtime: Runtime, job_id: str, date: dt.date) -> int | None:
    """Insert the (job, date) row, or take over a failed/skipped/stale one; None when another run has it."""
    now = clock.now()
    try:
        with runtime.write() as session:
            row = JobRun(job=job_id, run_date=date, status="running", started_at=now)
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        pass  # the row exists: the unique constraint decided; see whether it can be taken over
    with runtime.write() as session:
        taken = session.execute(
            update(JobRun)
            .where(col(JobRun.job) == job_id, col(JobRun.run_date) == date,
                   or_(col(JobRun.status).in_(("failed", "skipped")),
                       and_(col(JobRun.status) == "running", col(JobRun.started_at) < now - STALE_AFTER)))
            .values(status="running", started_at=now, finished_at=None, detail=None)
            .returning(col(JobRun.id))
        ).scalar_one_or_none()
    if taken is not None:
        log.info("job %s for %s: taking over an earlier failed, skipped or stale run", job_id, date)
    return taken


def _finish(runtime: Runtime, row_id: int, status: str, detail: str | None) -> None:
    with runtime.write() as session:
        session.execute(
            update(JobRun).where(col(JobRun.id) == row_id)
            .values(status=status, detail=(detail or None) and detail[:DETAIL_MAX], finished_at=clock.now()))
