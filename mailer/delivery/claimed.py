"""What the worker reads of the deliveries it has claimed: in one query per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from mailer.database import among
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.models import Subscriber


def load_claimed(ids: Sequence[int]) -> list[Delivery]:
    """Load claimed deliveries (the lifecycle emails, composed one by one) in one query."""
    if not ids:
        return []
    rows = db.session.scalars(
        select(Delivery).where(among(Delivery.id, ids)).order_by(Delivery.id)
    ).all()
    return list(rows)


@dataclass(frozen=True)
class Claimed:
    """What the worker needs of a claimed delivery to fill in a run's shared message."""

    delivery_id: int
    kind: MessageKind
    attempts: int
    run_id: int | None
    subscriber_id: int
    email: str
    token_version: int
    return_key: str | None
    # The language of the subscriber's emails.
    language: str = "en"


def load_claimed_rows(ids: Sequence[int]) -> list[Claimed]:
    """Load claimed deliveries with their addresses as plain rows, in one query."""
    if not ids:
        return []
    rows = db.session.execute(
        select(
            Delivery.id,
            Delivery.kind,
            Delivery.attempts,
            Delivery.run_id,
            Subscriber.id,
            Subscriber.email,
            Subscriber.token_version,
            Delivery.return_key,
            Subscriber.language,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(among(Delivery.id, ids))
        .order_by(Delivery.id)
    )
    return [Claimed(*row) for row in rows]
