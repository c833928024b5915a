"""What the people running the service watch: whether the database is ready, and the queue,
the runs in progress and what came back, read in queries that stay cheap on a large table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import RunState
from mailer.models import SendRun
from mailer.paths import MIGRATIONS

# The states a delivery waits in; the settled ones grow without end and are not counted live.
WAITING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class RunProgress:
    """How far one run in progress has got: its deliveries by state."""

    run_id: int
    key: str
    recipients: int
    by_status: dict[str, int]


def not_ready_reason() -> str | None:
    """Why the service cannot serve now (the database unreachable, migrations not at the
    code's head), or None when it can."""
    try:
        db.session.execute(select(1))
    except SQLAlchemyError as error:
        db.session.rollback()
        return f"database unreachable: {type(error).__name__}"
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        current = set()
    finally:
        db.session.rollback()
    expected = set(_code_heads())
    if current != expected:
        at = ", ".join(sorted(current)) or "none"
        return f"migrations not at head: database at {at}, code at {', '.join(sorted(expected))}"
    return None


@cache
def _code_heads() -> tuple[str, ...]:
    """The head revisions of the migrations shipped with this code (read once)."""
    return tuple(ScriptDirectory(str(MIGRATIONS)).get_heads())


def queue_depth() -> list[tuple[str, str, int]]:
    """(kind, state, count) of the deliveries waiting to be sent or being sent."""
    rows = db.session.execute(
        select(Delivery.kind, Delivery.status, func.count())
        .where(Delivery.status.in_(WAITING))
        .group_by(Delivery.kind, Delivery.status)
    ).all()
    return [(str(kind), str(status), int(count)) for kind, status, count in rows]


def expired_leases(*, now: datetime) -> int:
    """Deliveries whose worker's lease ran out: another worker takes them over."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_expires_at < now)
        )
        or 0
    )


def bounces_since(since: datetime) -> list[tuple[str, int]]:
    """(kind, count) of the bounces, complaints and unsubscribe emails received since then."""
    rows = db.session.execute(
        select(BounceEvent.kind, func.count())
        .where(BounceEvent.received_at >= since)
        .group_by(BounceEvent.kind)
    ).all()
    return [(str(kind), int(count)) for kind, count in rows]


def runs_in_progress() -> Sequence[RunProgress]:
    """The runs still sending or paused, with their deliveries counted by state."""
    runs = db.session.execute(
        select(SendRun.id, SendRun.key, SendRun.recipients).where(
            SendRun.state.in_((RunState.SENDING, RunState.PAUSED))
        )
    ).all()
    progress = []
    for run_id, key, recipients in runs:
        counts = db.session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.run_id == run_id)
            .group_by(Delivery.status)
        ).all()
        by_status = {str(status): int(count) for status, count in counts}
        progress.append(RunProgress(run_id, key, int(recipients), by_status))
    return progress
