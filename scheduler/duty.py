"""Duty roster job: `duty_reminder` (17:00 daily) tells the members on duty tomorrow."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from scheduler.registry import Skip, job

if TYPE_CHECKING:
    from bot.runtime import Runtime


@job("duty_reminder")
def duty_reminder(runtime: Runtime, date: dt.date) -> str | Skip:
    """Members on duty tomorrow get a reminder."""
    from bot.services import duty

    with runtime.write() as session:
        count = duty.remind(session, runtime.config, date)
    return f"reminded={count}" if count else Skip("nobody is on duty tomorrow")
