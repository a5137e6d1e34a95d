"""The audit log: every change a person makes, with who, what and when (never personal data)."""

from __future__ import annotations

from sqlmodel import Session

from bot import clock, seal
from bot.models import AuditLog


def record(session: Session, actor: str, action: str, target: str = "", detail: str = "",
           sealed: bool = False) -> None:
    """`sealed`: the row is about an anonymous report and keeps its time to the day only."""
    session.add(AuditLog(at=seal.day_of() if sealed else clock.now(), actor=actor[:64], action=action[:64],
                         target=target[:128], detail=detail))
