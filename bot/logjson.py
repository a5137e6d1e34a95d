"""JSON-lines logs (`DANGJIAN_LOG_FORMAT=json`): one object per line for a log shipper, and one line per web
request with its request id, status and timings (for a callback also the message's dedup key, hashed).

Fields: `ts` (UTC, ISO 8601), `level`, `logger`, `msg`, `pid`, `request_id` inside a request, and what a
call passes in `extra=` among FIELDS. The request line (logger `bot.request`): `method`, `path` (never the
query string: it may carry a name), `endpoint`, `status`, `ms` (whole request) and, for a callback,
`dedup` (first 16 hex digits of SHA-256 of the dedup key: lets you find one message's retries without
storing its sender) and `handle_ms` (the inbound pipeline). Like every log line, never a userid, a name
or a message text (bot/logsafe.py): a sealed reporter's userid in particular never reaches a log.

Text logs stay the default; the environment variable is read when logging is configured (bot/cli.py), so
it needs no configuration key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import sys
from typing import Any

ENV = "DANGJIAN_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("request_id", "method", "path", "endpoint", "status", "ms", "handle_ms", "dedup", "job", "outcome")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a proxy's X-Request-Id is reused when it looks like one


def enabled() -> bool:
    return os.environ.get(ENV, "").strip().lower() == "json"


def hashed(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def new_request_id(header: str | None) -> str:
    return header if header and REQUEST_ID.fullmatch(header) else secrets.token_hex(8)


def _current_request_id() -> str | None:
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover - Flask is a dependency
        return None
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None) or _current_request_id()
        if request_id:
            line["request_id"] = request_id
        for name in FIELDS[1:]:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: int) -> None:
    """The process's root handler on stderr: JSON lines when DANGJIAN_LOG_FORMAT=json, else text."""
    if enabled():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler])
    else:
        logging.basicConfig(level=level, format=TEXT_FORMAT, stream=sys.stderr)
