"""Duty roster job: `duty_reminder` (17:00 daily) tells the members on duty tomorrow."""

from __future__ import annotations

import datetime as dt

from bot.runtime import Runtime
from bot.services import duty
from scheduler.registry import Skip


def duty_reminder(runtime: Runtime, date: dt.date) -> str | Skip:
    """Members on duty tomorrow get a reminder."""
    with runtime.write() as session:
        count = duty.remind(session, runtime.config, date)
    return f"reminded={count}" if count else Skip("nobody is on duty tomorrow")
