"""One message per person per job: a job adds its tasks and alerts per recipient, then `send()` queues one
text per recipient listing them (at most `SHOWN` lines, then 「另有 N 项」), never over the outbox's 2048 bytes.

A recipient with a single item gets that item's own full text (`single`), as if it had been sent alone. The
outbox key is the job's key, the recipient's id and a hash of the item ids, so a job run again with the same
items queues nothing new. Urgent items (a 急难 ticket's 督办) go in a message of their own, so an urgent item
never waits for the others and never drags ordinary notices past quiet hours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot import notify, texts
from bot.message import MAX_TEXT_BYTES
from bot.models import Member

SHOWN = 10


@dataclass
class _Item:
    ident: str
    line: str
    single: str


@dataclass
class Batch:
    """Items per recipient for one job run; `header` is a messages.toml key taking `{count}`."""

    key: str
    header: str
    footer: str = ""
    created_by: str | None = None
    topic: str = "task"  # the kind of message (bot.outbox.classes); urgent items go as `ticket_urgent`
    _people: dict[tuple[int, bool], Member] = field(default_factory=dict)
    _items: dict[tuple[int, bool], list[_Item]] = field(default_factory=dict)
    _lead: dict[tuple[int, bool], str] = field(default_factory=dict)

    def lead(self, people: list[Member], text: str) -> None:
        """A text put first in the message of each of `people` (sent alone when they have no items)."""
        for member in people:
            if member is not None and member.id is not None:
                self._people[(member.id, False)] = member
                self._items.setdefault((member.id, False), [])
                self._lead[(member.id, False)] = text

    def add(self, people: list[Member], ident: str, line: str, single: str | None = None,
            urgent: bool = False) -> None:
        """Give each of `people` the item `ident` (listed as `line`; sent as `single` when it is alone)."""
        for member in people:
            if member is None or member.id is None:
                continue
            slot = (member.id, urgent)
            self._people[slot] = member
            items = self._items.setdefault(slot, [])
            if all(i.ident != ident for i in items):
                items.append(_Item(ident, line, single or line))

    def recipients(self) -> int:
        return len({member_id for member_id, _ in self._items})

    def text_for(self, items: list[_Item], lead: str | None = None) -> str:
        if not items:
            return fit([lead or ""], [], [])
        if len(items) == 1 and not lead:
            return fit([items[0].single], [], [])
        head = [*([lead] if lead else []), texts.t(self.header, count=len(items))]
        tail = [texts.t(self.footer)] if self.footer else []
        return fit(head, [i.line for i in items], tail)

    def send(self, session: Session, config: Any) -> int:
        """Queue one message per (recipient, urgency); returns the recipients queued."""
        queued = 0
        for (member_id, urgent), items in self._items.items():
            lead = self._lead.get((member_id, urgent))
            ids = ",".join(sorted(i.ident for i in items)) + (":lead" if lead else "")
            digest = hashlib.sha256(ids.encode()).hexdigest()[:16]
            key = f"{self.key}:{member_id}:{'u' if urgent else 'n'}:{digest}"
            queued += notify.members(session, config, [self._people[(member_id, urgent)]], self.text_for(items, lead),
                                     key=key, topic="ticket_urgent" if urgent else self.topic,
                                     created_by=self.created_by)
        return queued


def fit(head: list[str], items: list[str], tail: list[str], shown: int = SHOWN) -> str:
    """`head`, at most `shown` of `items` with 「另有 N 项」 for the rest, and `tail`, dropping more items
    until the text fits the outbox's byte limit (a text with no items is cut to it)."""
    keep = min(len(items), shown)
    while True:
        more = [texts.t("batch.more", count=len(items) - keep)] if keep < len(items) else []
        text = "\n".join([*head, *items[:keep], *more, *tail])
        if len(text.encode("utf-8")) <= MAX_TEXT_BYTES:
            return text
        if keep == 0:
            return text.encode("utf-8")[:MAX_TEXT_BYTES - 3].decode("utf-8", "ignore") + "…"
        keep -= 1
