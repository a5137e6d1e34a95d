"""The scheduler: `python -m scheduler` (= `dangjian scheduler`).

- scheduler.registry: `Job`, `@job(...)`, `SKIPPED`; light, for feature modules to import.
- scheduler.jobs: the JOBS table (imports every module that registers jobs).
- scheduler.runner: `run_job(runtime, job_id, date)`, guarded once per (job, date).
- scheduler.process: the APScheduler process with leader election (bot.locks.LeaderLock).
"""
