"""One type for an expected refusal (errbot's `CommandError`): a service or an argument parser raises it with
the Chinese reply (or a message key and its parameters), and `Router.dispatch` catches it once and answers it.

Services raise their own subclasses (ApprovalError, TicketError, ...) so callers outside chat (console, CLI)
can still tell them apart; chat handlers never catch them.
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """An expected refusal; `str(refusal)` is the Chinese reply. `Refusal(text)` or `Refusal.of(key, **params)`."""

    @classmethod
    def of(cls, key: str, **params: Any) -> Refusal:
        from bot import texts

        return cls(texts.t(key, **params))
