"""Ticket categories: the first category in content/ticket_categories.toml one of whose keywords is a jieba word
of the text (or, for keywords of two or more characters, a substring of it); none: 其他."""

from __future__ import annotations

import functools
import tomllib

from bot import texts


@functools.cache
def _categories() -> tuple[tuple[str, frozenset[str]], ...]:
    data = tomllib.loads(texts.read_content("ticket_categories.toml"))
    return tuple((name, frozenset(spec["keywords"])) for name, spec in data["categories"].items())


def categorise(text: str) -> str:
    from bot import segment

    tokens = set(segment.words(text[:500]))
    for name, keywords in _categories():
        if tokens & keywords or any(len(k) > 1 and k in text for k in keywords):
            return name
    return "其他"
