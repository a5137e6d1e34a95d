"""`成员` in chat commands (加分 / 扣分 / 指派 / 否决): a userid or a roster name (CONTRACT.md "Chat").

A userid (case-insensitive, exact) is found in any branch, so the command's own refusals (outside the branch,
oneself) still answer it; a name is looked up among active members of the branches in scope only. A name
shared by several members is answered with every match, each with its branch and userid to choose by.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlmodel import Session, col, select

from bot import texts
from bot.models import Branch, Member
from bot.refusal import Refusal


class MemberLookupError(Refusal):
    """No member, or several, for the token; the message is the Chinese reply."""


class SeveralMembers(MemberLookupError):
    """A name shared by several members (`found`), listed with branch and userid to choose by."""

    def __init__(self, token: str, found: list[Member], lines: str) -> None:
        self.token, self.found = token, found
        super().__init__(texts.t("members.several", token=token, count=len(found), lines=lines))

    def example(self, command: str) -> MemberLookupError:
        """The same reply ending in `command` (`命令 参数…` as sent) with the first match's userid in place of
        the name (never inside the command word)."""
        word, _, args = command.partition(" ")
        example = f"{word} {args.replace(self.token, self.found[0].userid, 1)}"
        return MemberLookupError(f"{self}\n{texts.t('members.several_example', example=example)}")


def find_members(session: Session, token: str, branch_ids: Collection[int] | None) -> list[Member]:
    """The active member with userid `token`, else the active members named `token` in `branch_ids`
    (None: every branch), by id."""
    token = token.strip()
    if not token:
        return []
    person = session.exec(select(Member).where(Member.userid == token.lower())).first()
    if person is not None and person.active:
        return [person]
    stmt = select(Member).where(Member.name == token, col(Member.active).is_(True)).order_by(col(Member.id))
    if branch_ids is not None:
        stmt = stmt.where(col(Member.branch_id).in_(list(branch_ids)))
    return list(session.exec(stmt))


def one_member(session: Session, token: str, branch_ids: Collection[int] | None,
               keep: Callable[[Member], bool] | None = None) -> Member:
    """The one member `token` names, else MemberLookupError (SeveralMembers for a shared name). `keep` narrows
    name matches further (a userid match is returned as is, for the command's own refusal)."""
    found = find_members(session, token, branch_ids)
    if keep is not None and not (len(found) == 1 and found[0].userid == token.strip().lower()):
        found = [m for m in found if keep(m)]
    if len(found) == 1:
        return found[0]
    if not found:
        key = "members.unknown_all" if branch_ids is None else "members.unknown"
        raise MemberLookupError(texts.t(key, token=token.strip()))
    names = {b.id: b.name for b in session.exec(select(Branch).where(
        col(Branch.id).in_([m.branch_id for m in found if m.branch_id is not None])))}
    lines = "\n".join(texts.t("members.line", name=m.name, branch=names.get(m.branch_id, "-") if m.branch_id else "-",
                              userid=m.userid) for m in found)
    raise SeveralMembers(token.strip(), found, lines)


def scope(actor: Member, branch_id: int | None, chosen: bool) -> list[int] | None:
    """Where a name is looked up: the branch the command acts on; every branch (None) for a committee member
    who chose none with `@支部编码`."""
    if actor.has_role("committee") and not chosen:
        return None
    return [branch_id] if branch_id is not None else []
