"""Chinese word segmentation: one jieba tokenizer per process, with content/jieba_user.txt loaded, shared by
the intent model (bot.intents) and ticket categories (bot.services.tickets.categories). The dictionary loads
on first use (~0.7 s); `load()` does it now (start-up warm-up)."""

from __future__ import annotations

import functools
import logging
import threading

import jieba

from bot import texts

_lock = threading.Lock()


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    # a file object: jieba given a path would leave the file open
    with (texts.CONTENT / "jieba_user.txt").open("rb") as handle:
        tok.load_userdict(handle)
    return tok


def load() -> None:
    """Load the dictionary now rather than on the first text."""
    with _lock:
        _tokenizer()


def words(text: str) -> list[str]:
    """jieba's words of `text`, blanks dropped."""
    with _lock:
        tok = _tokenizer()
    return [w for w in tok.lcut(text) if w.strip()]
