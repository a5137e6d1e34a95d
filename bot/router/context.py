"""The context a handler runs in, role labels and the replies every route shares (not on the roster, wrong role)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot import texts
from bot.message import InboundMessage, Reply, after_word

if TYPE_CHECKING:
    from bot.router.core import Router

SECRETARY_ROLES = ("secretary", "deputy", "committee")
ARG_SEP = re.compile(r"[\s,，、:：]+")
SEPARATORS = (" ", ":", ",")  # `：` and `，` after NFKC


def role_label(role: str) -> str:
    """The word for a role in chat replies (content/messages.toml `labels.role`)."""
    return texts.label("role", role)


@dataclass
class Context:
    runtime: Any  # bot.runtime.Runtime
    session: Session
    message: InboundMessage
    member: Any = None  # bot.models.Member, None for a stranger
    args: str = ""  # normalised text after the command word and its separator: for parsing
    word: str = ""  # the command word the table matched
    match: re.Match[str] | None = None  # what a Regex route matched
    router: Router | None = None
    state: dict[str, Any] = field(default_factory=dict)
    # Set by a handler acting on an anonymous report (进度/满意/不满意/回复 about one), or by dispatch for a route
    # declared `anonymous` (匿名反映): the inbound row then keeps no sender and no time finer than the day, and
    # a late reply goes sealed.
    sealed: bool = False

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def raw_args(self) -> str:
        """The argument as sent (no NFKC), minus the command word and its separator: what handlers store."""
        if not self.message.sent or not self.word:
            return self.args
        return after_word(self.message.sent, self.word)

    @property
    def config(self) -> Any:
        return self.runtime.config

    @property
    def chosen(self) -> bool:
        """A committee member chose the branch with `@支部编码`."""
        return "branch_id" in self.state

    @property
    def branch_id(self) -> int | None:
        """The branch a command acts on: the sender's own, or `@code` chosen by a committee member."""
        if "branch_id" in self.state:
            return self.state["branch_id"]
        return self.member.branch_id if self.member is not None else None


def not_member(ctx: Context) -> str:
    return texts.t("roster.not_member_oa" if ctx.message.channel == "wechat" else "roster.not_member")


def role_refusal(roles: tuple[str, ...]) -> str:
    if set(roles) & {"secretary", "deputy"}:
        return texts.t("role.secretary_only")
    label = "、".join(dict.fromkeys(role_label(r) for r in roles))
    return texts.t("role.needed", role=label)


def as_reply(value: Reply | str | None) -> Reply:
    if value is None:
        return Reply()
    if isinstance(value, Reply):
        return value
    return Reply(text=value)
