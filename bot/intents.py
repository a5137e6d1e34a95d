"""Free text → intent with jieba: "学完了" is a check-in. Loaded once per process (~0.7 s)."""

from __future__ import annotations

import functools
import logging
import threading
import tomllib

import jieba

from bot.texts import CONTENT

_lock = threading.Lock()


@functools.cache
def _table() -> tuple[tuple[str, frozenset[str]], ...]:
    data = tomllib.loads((CONTENT / "intents.toml").read_text(encoding="utf-8"))
    return tuple((name, frozenset(spec["keywords"])) for name, spec in data["intents"].items())


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    with (CONTENT / "jieba_user.txt").open("rb") as handle:  # a path would leave the file open
        tok.load_userdict(handle)
    return tok


def warm_up() -> None:
    """Load the dictionary now (web worker and `say` start-up), not on the first message."""
    with _lock:
        _tokenizer()
        _table()


def words(text: str) -> list[str]:
    with _lock:
        tok = _tokenizer()
    return [w for w in tok.lcut(text) if w.strip()]


@functools.lru_cache(maxsize=1024)
def classify(text: str) -> str | None:
    """The first intent one of whose keywords is a jieba word of the text, else None. Cached: every
    Intent route of the router asks about the same text, and jieba should cut it once."""
    if not text or len(text) > 200:
        return None
    tokens = set(words(text))
    for name, keywords in _table():
        if tokens & keywords:
            return name
    return None
