"""Console sessions that end for good: a version number on the person's row.

The console keeps Flask's signed cookie session, and the cookie carries the `session_version` of the
admin (or, for a WeCom console login, the roster member) it was issued for. Every request compares it
with the row, so bumping the version ends every copy of every older cookie at once: logout, a password
change and deactivation bump an admin's; deactivation, loss of a role and `forget` bump a member's.
Each bump is one `UPDATE ... SET session_version = session_version + 1` (atomic, no read first).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import Session, col

from bot.models import AdminUser, Member


def end_admin_sessions(session: Session, admin_id: int) -> None:
    session.execute(update(AdminUser).where(col(AdminUser.id) == admin_id)
                    .values(session_version=col(AdminUser.session_version) + 1))


def end_member_sessions(session: Session, member_ids: Iterable[int]) -> None:
    ids = sorted(set(member_ids))
    for start in range(0, len(ids), 500):
        session.execute(update(Member).where(col(Member.id).in_(ids[start:start + 500]))
                        .values(session_version=col(Member.session_version) + 1))


def still_valid(row: AdminUser | Member | None, version: object) -> bool:
    """The cookie's version matches the row and the row is active."""
    return row is not None and row.active and isinstance(version, int) and version == row.session_version
