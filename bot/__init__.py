"""党建助手. `create_app(config)` builds the Flask app (no work at import time)."""

from __future__ import annotations

from typing import Any


def create_app(config: Any = None, runtime: Any = None):
    """The WSGI app: callbacks, study pages, health and the admin console."""
    from bot.web import build_app

    return build_app(config, runtime)
