"""The audit log: who created, edited, published and withdrew what, and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from typing import Protocol

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import AuditEvent


class Identified(Protocol):
    """Any stored record: it has an id."""

    id: int


def record(
    actor: str,
    action: str,
    target: Identified | str,
    *,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an event about `target` (flushes, so the target has its id), or about a kind of
    record as a whole when `target` is its name ("Subscriber" for an export, say)."""
    db.session.flush()
    db.session.add(
        AuditEvent(
            at=now,
            actor=actor[:400],
            action=action,
            target_type=target if isinstance(target, str) else type(target).__name__,
            target_id=None if isinstance(target, str) else target.id,
            detail=detail or {},
        )
    )


def recent(*, limit: int = 100, target: Identified | None = None) -> Sequence[AuditEvent]:
    """The latest events, newest first, optionally about one record."""
    statement = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if target is not None:
        statement = statement.where(
            AuditEvent.target_type == type(target).__name__, AuditEvent.target_id == target.id
        )
    return db.session.scalars(statement.limit(limit)).all()
