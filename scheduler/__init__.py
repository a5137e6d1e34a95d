"""The scheduler: `python -m scheduler` (= `dangjian scheduler`).

- scheduler.registry: the JOBS table (every job once, with its default trigger), `Job`, `SKIPPED`; light.
- scheduler.jobs: `get(job_id)` / `UnknownJob`.
- scheduler.runner: `run_job(runtime, job_id, date)`, guarded once per (job, date).
- scheduler.process: the APScheduler process with leader election (bot.locks.LeaderLock).
"""
