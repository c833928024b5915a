"""Send runs: which news goes to whom and when, made once and enqueued in one statement.

A run is the alert of one news item (immediate) or the digest of one period (daily, weekly).
Its key is unique in the database, so a retried job or a second scheduler cannot make it twice.
When digest periods end is for `mailer.domain.periods` to say.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import cast

from sqlalchemy import Select
from sqlalchemy import Table
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import update

from mailer.clock import Period
from mailer.database import dialect_insert
from mailer.database import row_count
from mailer.domain import audience
from mailer.domain import audit
from mailer.domain import segments
from mailer.domain.audience import Audience
from mailer.domain.periods import DIGESTS
from mailer.domain.periods import SETTLE
from mailer.domain.periods import Schedule
from mailer.domain.periods import digest_key
from mailer.domain.run_counts import status_counts as status_counts
from mailer.errors import Conflict
from mailer.extensions import db
from mailer.models import Bulletin
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import RunState
from mailer.models import SendRun
from mailer.models import Subscriber
from mailer.models import UTCDateTime
from mailer.models import counting
from mailer.models import news_item_topics

OUTSTANDING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


class RunStateError(Conflict):
    """The run cannot make that move from the state it is in."""

    hint = "Go back to the run to see where it is now."


def alert_key(item_id: int) -> str:
    """The unique name of the alert run of one news item."""
    return f"immediate:item-{item_id}"


def make_digest_run(
    frequency: Frequency, period: Period, *, actor: str, now: datetime
) -> tuple[SendRun, bool]:
    """Make (once) and enqueue the digest run of `period`; True when it was made now."""
    return make_run(
        key=digest_key(frequency, period.end),
        values={"frequency": frequency, "period_start": period.start, "period_end": period.end},
        actor=actor,
        now=now,
    )


def make_alert_run(item: NewsItem, *, actor: str, now: datetime) -> tuple[SendRun, bool]:
    """Make (once) and enqueue the immediate alert run of a published item."""
    return make_run(
        key=alert_key(item.id),
        values={"frequency": Frequency.IMMEDIATE, "news_item_id": item.id},
        actor=actor,
        now=now,
    )


def make_bulletin_run(bulletin: Bulletin, *, actor: str, now: datetime) -> tuple[SendRun, bool]:
    """Make (once) and enqueue the run that sends a bulletin to its audience."""
    return make_run(
        key=f"bulletin:{bulletin.id}",
        values={"frequency": Frequency.IMMEDIATE, "bulletin_id": bulletin.id},
        actor=actor,
        now=now,
    )


def make_run(
    *, key: str, values: dict[str, Any], actor: str, now: datetime
) -> tuple[SendRun, bool]:
    """Insert the run unless its key exists, and enqueue it in the same transaction.

    On PostgreSQL a second transaction inserting the same key waits for the first and then
    inserts nothing; on SQLite transactions are serialised by BEGIN IMMEDIATE.
    """
    statement = dialect_insert(SendRun).values(
        key=key,
        state=RunState.SENDING,
        recipients=0,
        created_by=actor[:400],
        created_at=now,
        updated_at=now,
        **values,
    )
    new_id = db.session.scalar(
        statement.on_conflict_do_nothing(index_elements=["key"]).returning(SendRun.id)
    )
    if new_id is None:
        return db.session.scalars(select(SendRun).where(SendRun.key == key)).one(), False
    run = db.session.get_one(SendRun, new_id)
    run.recipients = enqueue(run, now=now, new=True)
    if not run.recipients:
        run.state, run.completed_at = RunState.DONE, now
    audit.record(
        actor, "run.create", run, now=now, detail={"key": key, "recipients": run.recipients}
    )
    return run, True


def enqueue(run: SendRun, *, now: datetime, new: bool = False) -> int:
    """Write one queued delivery per subscriber of the run's audience, in one
    INSERT … SELECT; return how many the run has. Safe to repeat: (run, subscriber) is
    unique and those already there are skipped. `new`: the run was made in this transaction,
    so it has none yet and the rows go in without ON CONFLICT (on PostgreSQL a sixth of the
    time of a large enqueue: bench/README.md)."""
    reached = run_audience(run)
    if reached.empty:
        return 0
    table = cast(Table, Delivery.__table__)
    queued = _queued(run, reached, now=now)
    if new:
        result = db.session.execute(insert(table).from_select(QUEUED_COLUMNS, queued))
        # psycopg reports the rows an INSERT … SELECT wrote; a driver that does not says -1.
        if row_count(result) >= 0:
            return row_count(result)
    else:
        # ON CONFLICT rather than NOT EXISTS: a planner that last saw `deliveries` nearly
        # empty would otherwise rescan it for every subscriber.
        db.session.execute(
            dialect_insert(table)
            .from_select(QUEUED_COLUMNS, queued)
            .on_conflict_do_nothing(index_elements=["run_id", "subscriber_id"])
        )
    # Counted rather than taken from rowcount, which not every driver reports for this.
    return int(db.session.scalar(select(func.count()).where(Delivery.run_id == run.id)) or 0)


def run_audience(run: SendRun) -> Audience:
    """Who the run reaches (see `mailer.domain.audience`)."""
    if run.bulletin_id is not None:
        bulletin = db.session.get_one(Bulletin, run.bulletin_id)
        return audience.of_topics(
            [topic.id for topic in bulletin.topics],
            None,
            everyone=bulletin.everyone,
            segment=segments.from_stored(bulletin.segment),
        )
    items = run.items_statement().with_only_columns(NewsItem.id)
    topic_ids = db.session.scalars(
        select(news_item_topics.c.topic_id)
        .where(news_item_topics.c.news_item_id.in_(items))
        .distinct()
    ).all()
    if run.news_item is not None and run.news_item.urgent:
        return audience.of_topics(
            topic_ids, None, segment=segments.from_stored(run.news_item.segment)
        )
    return audience.of_topics(topic_ids, run.frequency)


# The columns of a delivery that `_queued` gives values for, in its order.
QUEUED_COLUMNS = (
    "run_id",
    "kind",
    "subscriber_id",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "updated_at",
)


def run_kind(run: SendRun) -> MessageKind:
    """What kind of list mail the run sends."""
    if run.bulletin_id is not None:
        return MessageKind.BULLETIN
    return MessageKind.ALERT if run.frequency is Frequency.IMMEDIATE else MessageKind.DIGEST


def _queued(run: SendRun, reached: Audience, *, now: datetime) -> Select[Any]:
    """A queued delivery of `run`, as the values of QUEUED_COLUMNS, for every subscriber in
    `reached`."""
    stamp = literal(now, UTCDateTime())
    return select(
        literal(run.id),
        literal(run_kind(run), Delivery.__table__.c.kind.type),
        Subscriber.id,
        literal(DeliveryStatus.QUEUED, Delivery.__table__.c.status.type),
        literal(0),
        stamp,
        stamp,
        stamp,
    ).where(reached.condition())


def make_due_runs(
    *,
    schedule: Schedule,
    now: datetime,
    actor: str,
    alert_within: timedelta,
    recovery: timedelta,
    frequencies: Sequence[Frequency] = (Frequency.IMMEDIATE, *DIGESTS),
) -> list[SendRun]:
    """Make every run that is due: alerts of items published within `alert_within` that have
    none, and digests of periods that have ended and have none. Each run commits on its own.

    A digest missed while nothing ran is made once, later; missed periods are made back to
    `recovery` ago, but never from before the first digest run of that frequency, so a new
    installation starts with the latest period only.
    """
    made = []
    if Frequency.IMMEDIATE in frequencies:
        made += _make_due_alerts(since=now - alert_within, actor=actor, now=now)
    for frequency in DIGESTS:
        if frequency in frequencies:
            made += _make_due_digests(
                frequency, schedule=schedule, now=now, actor=actor, recovery=recovery
            )
    return made


def _make_due_alerts(*, since: datetime, actor: str, now: datetime) -> list[SendRun]:
    """Make the alerts of items published since `since` that have none, each committed on its
    own; return those made now."""
    made = []
    for item in _items_without_alert(since=since):
        run, created = make_alert_run(item, actor=actor, now=now)
        db.session.commit()
        if created:
            made.append(run)
    return made


def _make_due_digests(
    frequency: Frequency, *, schedule: Schedule, now: datetime, actor: str, recovery: timedelta
) -> list[SendRun]:
    """Make the digests of `frequency` whose periods are due and have none, oldest first, each
    committed on its own; return those made now."""
    made = []
    for end in missing_ends(frequency, schedule=schedule, now=now, recovery=recovery):
        period = _from_previous(frequency, schedule.period_ending(frequency, end))
        run, created = make_digest_run(frequency, period, actor=actor, now=now)
        db.session.commit()
        if created:
            made.append(run)
    return made


def _from_previous(frequency: Frequency, period: Period) -> Period:
    """`period`, or, when it began before the latest earlier digest of `frequency` ended, the
    period from that end to its own."""
    previous = db.session.scalar(
        select(func.max(SendRun.period_end)).where(
            SendRun.frequency == frequency, SendRun.period_end < period.end
        )
    )
    if previous is not None and previous > period.start:
        # The first period after the schedule moved starts where the last one ended.
        return Period(previous, period.end)
    return period


def missing_ends(
    frequency: Frequency, *, schedule: Schedule, now: datetime, recovery: timedelta
) -> list[datetime]:
    """Period ends of `frequency` that are due and have no run yet, oldest first."""
    last = db.session.scalar(
        select(func.max(SendRun.period_end)).where(SendRun.frequency == frequency)
    )
    now = now - SETTLE
    if last is None:
        return [schedule.latest_end(frequency, now)]
    # Only periods after the latest one made: a schedule moved since must not reach back
    # over periods that were already sent.
    return schedule.ends_between(frequency, max(last, now - recovery), now)


def _items_without_alert(*, since: datetime) -> Sequence[NewsItem]:
    """Published items, newest within the window, whose alert run has not been made."""
    has_run = exists().where(SendRun.news_item_id == NewsItem.id)
    return db.session.scalars(
        select(NewsItem)
        .where(
            NewsItem.state == NewsState.PUBLISHED,
            NewsItem.published_at >= since,
            ~has_run,
        )
        .order_by(NewsItem.published_at, NewsItem.id)
    ).all()


# What a run's state may become, by action.
MOVES = {
    "pause": ({RunState.SENDING}, RunState.PAUSED),
    "resume": ({RunState.PAUSED}, RunState.SENDING),
    "cancel": ({RunState.SENDING, RunState.PAUSED}, RunState.CANCELLED),
}


# What each action has done, in words.
DONE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def change_state(run: SendRun, action: str, *, actor: str, now: datetime) -> None:
    """Pause, resume or cancel a run (lock it first). Cancelling cancels what is still queued;
    messages a worker is sending at that moment are settled by the worker.

    :raises RunStateError: the run is not in a state the action applies to.
    """
    allowed, target = MOVES[action]
    if run.state not in allowed:
        raise RunStateError(f"run {run.id} is {run.state.value}; it cannot be {DONE[action]}")
    run.state, run.updated_at = target, now
    cancelled = 0
    if target is RunState.CANCELLED:
        result = db.session.execute(
            update(Delivery)
            .where(Delivery.run_id == run.id, Delivery.status == DeliveryStatus.QUEUED)
            .values(status=DeliveryStatus.CANCELLED, last_error="run cancelled", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        cancelled = row_count(result)
        counting.add_to_runs({run.id: Counter(cancelled=cancelled)})
        run.completed_at = now
    audit.record(actor, f"run.{action}", run, now=now, detail={"cancelled": cancelled})


def run_by_id(run_id: int, *, lock: bool = False) -> SendRun | None:
    """Load a run, optionally locking its row for an update."""
    if not 0 < run_id < 2**31:
        return None
    statement = select(SendRun).where(SendRun.id == run_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalars(statement).one_or_none()


def recent_runs(*, limit: int = 50) -> Sequence[SendRun]:
    """The latest runs, newest first."""
    return db.session.scalars(
        select(SendRun).order_by(SendRun.created_at.desc(), SendRun.id.desc()).limit(limit)
    ).all()


def outstanding(run_ids: Sequence[int]) -> int:
    """Deliveries of these runs still queued or being sent."""
    if not run_ids:
        return 0
    return int(
        db.session.scalar(
            select(func.count()).where(
                Delivery.run_id.in_(run_ids), Delivery.status.in_(OUTSTANDING)
            )
        )
        or 0
    )
