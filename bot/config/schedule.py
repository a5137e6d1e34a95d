"""[schedule]: one trigger per job (`"HH:MM"` daily or `"every 10m"`), keys checked against the jobs."""

from __future__ import annotations

from typing import Any

DEFAULT_SCHEDULE: dict[str, str] = {
    "morning_study": "07:50",
    "study_reminder": "12:00",
    "content_gap_alert": "15:00",
    "political_birthday": "08:30",
    "birthday_list": "08:30",
    "theme_day_reminders": "every 10m",
    "theme_day_close": "every 10m",
    "theme_day_deadline": "09:00",
    "attendance_rules": "09:00",
    "duty_reminder": "17:00",
    "ticket_escalation": "every 10m",
    "review_finalise": "09:00",
    "housekeeping": "03:30",
    "secretary_digest": "17:30",
}


def schedule_problems(data: Any) -> tuple[dict[str, str], list[str]]:
    """The merged schedule and one problem line per bad key (`[schedule] key: reason`)."""
    from bot.config.base import parse_trigger

    if not isinstance(data, dict):
        return dict(DEFAULT_SCHEDULE), ["[schedule]: must be a table"]
    merged, problems = dict(DEFAULT_SCHEDULE), []
    for key, value in data.items():
        if key not in DEFAULT_SCHEDULE:
            problems.append(f"[schedule] {key}: unknown key (jobs: {', '.join(DEFAULT_SCHEDULE)})")
            continue
        if not isinstance(value, str):
            problems.append(f"[schedule] {key}: expected a string \"HH:MM\" or \"every 10m\"")
            continue
        try:
            parse_trigger(value)
        except ValueError as exc:
            problems.append(f"[schedule] {key}: {exc} (or \"every 10m\")")
            continue
        merged[key] = value
    return merged, problems
