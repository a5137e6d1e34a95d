"""Who is signed in to the console, and what they may see.

Two kinds of sign-in: an operator account (`create-admin`, password) and a roster member signed in through
WeCom (or a demo link). Both are loaded afresh on every request (roles re-read), as a `Principal`.

Areas: every console endpoint belongs to one (`area` decorator; unlisted endpoints are `global`):
- `any`: every signed-in person (the dashboard);
- `branch`: secretaries and deputies (their own branch), committee members and admins (every branch);
- `study`: editors, reviewers, committee members and admins;
- `global`: committee members and admins only (deliveries, audit log, branch settings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.models import AdminUser, Member

CONSOLE_ROLES = frozenset({"secretary", "deputy", "committee", "editor", "reviewer", "admin"})
ALL_BRANCHES = frozenset({"committee", "admin"})
SECRETARY = frozenset({"secretary", "deputy"})
STUDY = frozenset({"editor", "reviewer"})
AREAS: dict[str, str] = {}  # view function name -> area

F = TypeVar("F", bound=Callable[..., object])


def area(name: str) -> Callable[[F], F]:
    """Put a view in an area (see the module docstring); apply it below the route decorator."""
    assert name in ("any", "branch", "study", "global")

    def mark(view: F) -> F:
        AREAS["admin." + view.__name__] = name
        return view
    return mark


@dataclass(frozen=True)
class Principal:
    kind: str  # "admin" (operator account) or "member" (WeCom sign-in)
    id: int
    username: str  # the audit actor: the operator's username or the member's userid
    name: str
    roles: frozenset[str]
    branch_id: int | None

    @classmethod
    def of_admin(cls, user: AdminUser) -> Principal:
        assert user.id is not None
        return cls("admin", user.id, user.username, user.username, frozenset({"admin"}), None)

    @classmethod
    def of_member(cls, member: Member) -> Principal:
        assert member.id is not None
        return cls("member", member.id, member.userid, member.name, member.role_set, member.branch_id)

    @property
    def all_branches(self) -> bool:
        return bool(self.roles & ALL_BRANCHES)

    @property
    def secretary(self) -> bool:
        return self.all_branches or bool(self.roles & SECRETARY)

    @property
    def study(self) -> bool:
        return self.all_branches or bool(self.roles & STUDY)

    def may(self, where: str) -> bool:
        return {"any": True, "branch": self.secretary, "study": self.study}.get(where, self.all_branches)

    def sees_branch(self, branch_id: int | None) -> bool:
        """A secretary acts on their own branch only; committee and admins on every branch."""
        return self.all_branches or (self.secretary and branch_id is not None and branch_id == self.branch_id)

    def branch_filter(self) -> int | None:
        """The branch id a list is limited to (None: every branch)."""
        return None if self.all_branches else (self.branch_id if self.branch_id is not None else -1)


def console_member(member: Member | None) -> bool:
    """A roster member who may use the console: active, with a console role."""
    return member is not None and member.active and bool(member.role_set & CONSOLE_ROLES)
