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


def label(kind: str, value: str) -> str:
    """The word people see for a stored value: `labels.<kind>.<value>` (role, member_type, delivery_status,
    ticket_status, theme_day_status); the value itself when there is none."""
    key = f"labels.{kind}.{value}"
    return t(key) if has(key) else str(value)


def labels(kind: str) -> dict[str, str]:
    """Every `labels.<kind>.*` entry as {value: word}, in the file's order."""
    prefix = f"labels.{kind}."
    return {key[len(prefix):]: word for key, word in _messages().items() if key.startswith(prefix)}


def period_words(period: str) -> str:
    """A review round as a member reads it: "2026-H2" -> "2026 年下半年" (anything else unchanged)."""
    year, _, half = period.partition("-")
    key = f"labels.period.{half}"
    return t(key, year=year) if year.isdigit() and has(key) else period


def band_words(band: str) -> str:
    """A points band as a member reads it: "A" -> "第一档", "C" -> "第三档" (anything else unchanged)."""
    if len(band) != 1 or not "A" <= band <= "Z":
        return band
    number = ord(band) - ord("A") + 1
    digits = t("labels.band.digits")
    return t("labels.band.name", n=digits[number - 1] if number <= len(digits) else number)
