"""Every sentence a member reads comes from content/messages.toml; code only names the key."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any


def content_dir() -> Path:
    """The content folder shipped as package data `bot/content` (in a source checkout a symlink to the
    top-level `content/`, in an installed wheel real files). Installed packages are plain files, not zips."""
    return Path(str(resources.files("bot").joinpath("content")))


CONTENT = content_dir()  # no file is read here: this only names the folder


def read_content(*parts: str) -> str:
    """The text of a file under content/, e.g. `read_content("study", "01-theory.toml")`."""
    return resources.files("bot").joinpath("content", *parts).read_text(encoding="utf-8")


@functools.cache
def _messages() -> dict[str, str]:
    data = tomllib.loads(read_content("messages.toml"))
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
