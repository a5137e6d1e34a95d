"""`review_finalise` (09:00 daily): reviews whose 7-day public notice ended become final (or disputed when a
member raised 异议), see bot/services/reviews.py."""

from __future__ import annotations

import datetime as dt

from bot.runtime import Runtime
from bot.services import reviews


def review_finalise(runtime: Runtime, date: dt.date) -> str:
    """Reviews whose 7-day notice ended become final; disputed ones go to the secretaries and the committee."""
    with runtime.write() as session:
        final, disputed = reviews.finalise(session, runtime.config, date)
    return f"final={final} disputed={disputed}"
