"""[schedule]: one trigger per job (`"HH:MM"` daily or `"every 10m"`), keys checked against the jobs."""

from __future__ import annotations

from typing import Any


def default_schedule() -> dict[str, str]:
    """`[schedule]` defaults: each job's own default trigger (scheduler/registry.py lists the jobs once)."""
    from scheduler import registry  # scheduler.registry imports bot.config: only at call time

    return registry.defaults()


def schedule_problems(data: Any) -> tuple[dict[str, str], list[str]]:
    """The merged schedule and one problem line per bad key (`[schedule] key: reason`)."""
    from bot.config.base import parse_trigger

    defaults = default_schedule()
    if not isinstance(data, dict):
        return defaults, ["[schedule]: must be a table"]
    merged, problems = dict(defaults), []
    for key, value in data.items():
        if key not in defaults:
            problems.append(f"[schedule] {key}: unknown key (jobs: {', '.join(defaults)})")
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
