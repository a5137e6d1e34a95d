"""Keeping personal data out of the logs (CONTRACT.md "Privacy": log lines carry member ids, never userids,
names or message text).

Our own log calls pass ids only. What other libraries would log is held back here:
- SQLAlchemy never shows statement parameters (`hide_parameters` in bot.db) and its engine logger stays at
  WARNING, so neither parameters nor result rows (userids, names, texts) reach a log at DEBUG;
- HTTP access logs (werkzeug, gunicorn) show the path without its query string (`?q=<a name>`).
"""

from __future__ import annotations

import logging
from typing import Any

GUNICORN_ACCESS_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
QUIET = ("sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm")


def _strip_query(value: Any) -> Any:
    if isinstance(value, str) and "?" in value:
        head, _, rest = value.partition("?")
        tail = rest.split(" ", 1)[1] if " " in rest else ""  # "GET /path?q=x HTTP/1.1" keeps " HTTP/1.1"
        return f"{head} {tail}".rstrip() if tail else head
    return value


class QueryStripFilter(logging.Filter):
    """Drops query strings from request lines in access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_strip_query(a) for a in record.args)
        return True


def install() -> None:
    """Idempotent: quiet the SQL loggers, strip queries from werkzeug's request lines."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger("werkzeug")
    if not any(isinstance(f, QueryStripFilter) for f in access.filters):
        access.addFilter(QueryStripFilter())
