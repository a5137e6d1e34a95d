"""Looking jobs up by id in the JOBS table (scheduler.registry lists every job once)."""

from __future__ import annotations

from scheduler.registry import JOBS, SKIPPED, WHEN, Job, Skip, next_run, runs_on


class UnknownJob(KeyError):
    """No job has this id."""

    def __str__(self) -> str:
        return f"unknown job {self.args[0]!r} (known: {', '.join(sorted(JOBS)) or 'none'})"


def load() -> dict[str, Job]:
    """The JOBS table (complete without importing anything)."""
    return JOBS


def get(job_id: str) -> Job:
    try:
        return JOBS[job_id]
    except KeyError:
        raise UnknownJob(job_id) from None


__all__ = ["JOBS", "SKIPPED", "WHEN", "Job", "Skip", "UnknownJob", "get", "load", "next_run", "runs_on"]
