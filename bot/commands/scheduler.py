"""Scheduler commands: `scheduler` (the process), `jobs` (the table with next runs), `run-job`."""

from __future__ import annotations

import datetime as dt

import click

from bot import clock
from bot.cli import UserError, command, fail, load_config, refuse_default_keys, runtime


@command("scheduler")
@click.option("--lease-seconds", type=click.FloatRange(min=1.0), default=30.0, show_default=True,
              help="Leader lock lifetime; a dead leader is replaced within about this time.")
@click.pass_context
def scheduler_cmd(ctx: click.Context, lease_seconds: float) -> None:
    """Run the scheduler (several may run: the one holding the leader lock runs the jobs)."""
    refuse_default_keys(load_config(ctx))
    from scheduler.process import serve  # APScheduler is only needed here

    serve(runtime(ctx), lease_seconds=lease_seconds)


@command("jobs")
@click.pass_context
def jobs_cmd(ctx: click.Context) -> None:
    """One line per job: id, trigger, next run (ISO, local time, from the business clock and the workday
    calendar). A calendar warning goes to stderr."""
    from scheduler import jobs

    cfg = load_config(ctx)
    clock.configure_from(cfg)
    warning = clock.calendar_warning()
    if warning:
        click.echo(f"warning: {warning}", err=True)
    now = clock.now()
    for entry in jobs.load().values():
        nxt = entry.next_run(cfg, now)
        click.echo(f"{entry.id}\t{entry.describe(cfg)}\t{nxt.isoformat(timespec='seconds')}")


@command("run-job")
@click.argument("job_id", metavar="JOB")
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="Business date (default: today).")
@click.pass_context
def run_job_cmd(ctx: click.Context, job_id: str, date_text: str | None) -> None:
    """Run a job now for a date; prints done, already done or skipped."""
    from scheduler import jobs
    from scheduler.runner import JobFailed, run_job

    try:
        jobs.get(job_id)
    except jobs.UnknownJob as exc:
        raise UserError(str(exc)) from None
    date = None
    if date_text is not None:
        try:
            date = dt.date.fromisoformat(date_text.strip())
        except ValueError:
            raise UserError(f"bad --date {date_text!r}: expected YYYY-MM-DD") from None
    rt = runtime(ctx)
    try:
        click.echo(run_job(rt, job_id, date or clock.today()))
    except JobFailed as exc:
        fail(f"error: {exc}", status=1)
