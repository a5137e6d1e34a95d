"""Outbox commands: `dangjian worker [--once]`."""

from __future__ import annotations

import os
import signal
import socket
import threading

import click

from bot import inbound_recovery, outbox
from bot.cli import command, load_config, refuse_default_keys, runtime


@command("worker")
@click.option("--once", is_flag=True, help="Drain what is due now, print a summary and exit.")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Deliver queued outbound messages; several workers may run at once (PostgreSQL). Also re-runs
    messages whose web process died mid-handling and replays the local spool (see bot/inbound_recovery)."""
    refuse_default_keys(load_config(ctx))
    rt = runtime(ctx)
    w = outbox.Worker(rt, f"{socket.gethostname()}:{os.getpid()}")
    if once:
        inbound_recovery.run_pass(rt)  # re-run messages of dead processes, replay the spool: replies queue
        stats = w.drain()
        with rt.session() as session:
            queued = outbox.status_counts(session).get("queued", 0)
        click.echo(f"sent={stats['sent']} failed={stats['failed']} expired={stats['expired']} queued={queued}")
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        click.echo(f"worker: signal {signum}, finishing the current batch", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    recovery = threading.Thread(target=inbound_recovery.loop, args=(rt, stop), name="inbound-recovery",
                                daemon=True)
    recovery.start()
    w.run(stop)
    recovery.join(timeout=10)
