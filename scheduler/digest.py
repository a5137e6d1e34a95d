"""`secretary_digest` (17:30 workdays): each secretary, deputy and committee member gets one message with
what waits for them (requests, tickets, escalations, tasks), counts per kind and the command listing each."""

from __future__ import annotations

import datetime as dt

from bot import clock
from bot.config import parse_trigger
from bot.runtime import Runtime
from bot.services import digest
from scheduler.registry import JOBS, Skip


def secretary_digest(runtime: Runtime, date: dt.date) -> str | Skip:
    """Secretaries, deputies and committee members get one message: requests, tickets, escalations, tasks."""
    _, value = parse_trigger(JOBS["secretary_digest"].trigger(runtime.config))
    since = (digest.previous_run(date, value) if isinstance(value, dt.time)
             else clock.at(date, dt.time(0)))  # an interval trigger: tickets of the day count as new
    with runtime.write() as session:
        told = digest.send(session, runtime.config, date, since)
    return f"told={told}" if told else Skip("nothing waits for anyone")
