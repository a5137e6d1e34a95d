"""Every sentence a member reads comes from content/messages.toml; code only names the key."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

CONTENT = Path(__file__).resolve().parent.parent / "content"


@functools.cache
def _messages() -> dict[str, str]:
    data = tomllib.loads((CONTENT / "messages.toml").read_text(encoding="utf-8"))
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(name + ".", value)
            else:
                flat[name] = str(value)

    walk("", data)
    return flat


def t(key: str, **values: Any) -> str:
    """The message `key` with `{placeholders}` filled; a missing key is a bug and raises KeyError."""
    template = _messages()[key]
    return template.format(**values) if values else template


def has(key: str) -> bool:
    return key in _messages()
