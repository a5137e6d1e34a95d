"""Political birthday jobs: `political_birthday` (08:30 daily) and `birthday_list` (08:30 on the 1st)."""

from __future__ import annotations

import datetime as dt

from bot.runtime import Runtime
from bot.services import birthday


def political_birthday(runtime: Runtime, date: dt.date) -> str:
    """Greet members on their political birthday; their secretary gets a 谈心谈话 task."""
    with runtime.write() as session:
        greeted, created = birthday.greet(session, runtime.config, date)
    return f"greeted={greeted} tasks={created}"


def birthday_list(runtime: Runtime, date: dt.date) -> str:
    """On the 1st each secretary gets the month's political birthdays (重温入党誓词)."""
    with runtime.write() as session:
        told = birthday.month_list(session, runtime.config, date)
    return f"branches={told}"
