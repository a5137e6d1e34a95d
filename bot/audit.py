"""The audit log: every change a person makes, with who, what and when (never personal data)."""

from __future__ import annotations

from sqlmodel import Session

from bot import clock
from bot.models import AuditLog


def record(session: Session, actor: str, action: str, target: str = "", detail: str = "") -> None:
    session.add(AuditLog(at=clock.now(), actor=actor[:64], action=action[:64], target=target[:128],
                         detail=detail))
