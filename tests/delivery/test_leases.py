"""The leases of claimed deliveries: renewed just before each chunk only when they would run
out soon (a renewal rewrites every row), never kept once another worker took them over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailer.delivery import queue
from mailer.delivery.messages import SENDABLE_TO
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests import TODAY
from tests.factories import queue_emails

LEASE = timedelta(minutes=5)


def _claim(owner: str, count: int, *, now=TODAY) -> list[int]:
    return queue.claim_batch(owner=owner, limit=count, lease=LEASE, now=now)


def _leases(ids: list[int]) -> dict[int, tuple[str | None, object, object]]:
    rows = db.session.execute(
        select(
            Delivery.id, Delivery.lease_owner, Delivery.lease_expires_at, Delivery.updated_at
        ).where(Delivery.id.in_(ids))
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def _renew(ids: list[int], owner: str, now) -> set[int]:
    return queue.renew_leases(ids, owner=owner, sendable=SENDABLE_TO, lease=LEASE, now=now)


def test_a_lease_with_more_than_half_left_is_kept_as_it_is(app):
    with app.app_context():
        ids = queue_emails(3, now=TODAY)
        assert _claim("a", 3) == ids
        before = _leases(ids)
        assert _renew(ids, "a", TODAY + timedelta(minutes=2)) == set(ids)
        queue.extend_leases(ids, owner="a", lease=LEASE, now=TODAY + timedelta(minutes=2))
        db.session.commit()
        assert _leases(ids) == before
        assert before[ids[0]][1] == TODAY + LEASE


def test_a_lease_with_less_than_half_left_is_renewed_from_now(app):
    later = TODAY + timedelta(minutes=3)
    with app.app_context():
        ids = queue_emails(4, now=TODAY)
        _claim("a", 4)
        assert _renew(ids[:2], "a", later) == set(ids[:2])
        queue.extend_leases(ids[2:], owner="a", lease=LEASE, now=later)
        db.session.commit()
        leases = _leases(ids)
        assert {leases[i][1] for i in ids} == {later + LEASE}
        assert [leases[i][2] for i in ids[:2]] == [later, later]


def test_a_lease_another_worker_took_over_is_neither_kept_nor_renewed(app):
    with app.app_context():
        ids = queue_emails(2, now=TODAY)
        _claim("a", 2)
        # Worker a stalled past its lease: b takes both over.
        taken = TODAY + LEASE + timedelta(seconds=1)
        assert _claim("b", 2, now=taken) == ids
        db.session.commit()
        assert _renew(ids, "a", taken) == set()
        assert _renew(ids, "a", taken + timedelta(minutes=4)) == set()
        queue.extend_leases(ids, owner="a", lease=LEASE, now=taken + timedelta(minutes=4))
        db.session.commit()
        assert {owner for owner, _, _ in _leases(ids).values()} == {"b"}
        assert _renew(ids, "b", taken + timedelta(minutes=1)) == set(ids)


def test_a_fresh_lease_of_a_subscriber_who_left_is_not_kept_and_is_cancelled(app):
    with app.app_context():
        ids = queue_emails(2, now=TODAY)
        _claim("a", 2)
        leaving = db.session.scalar(select(Delivery.subscriber_id).where(Delivery.id == ids[0]))
        db.session.get_one(Subscriber, leaving).status = SubscriberStatus.UNSUBSCRIBED
        db.session.commit()
        now = TODAY + timedelta(minutes=1)
        assert _renew(ids, "a", now) == {ids[1]}
        assert queue.settle_unwanted([ids[0]], owner="a", sendable=SENDABLE_TO, now=now) == (1, 0)
        db.session.commit()
        status = db.session.scalar(select(Delivery.status).where(Delivery.id == ids[0]))
        assert status is DeliveryStatus.CANCELLED


def test_a_chunk_is_recorded_sent_in_one_go_and_a_bounce_recorded_first_stays(app):
    now = TODAY + timedelta(minutes=1)
    with app.app_context():
        ids = queue_emails(3, now=TODAY)
        _claim("a", 3)
        db.session.execute(
            Delivery.__table__.update()
            .where(Delivery.id == ids[2])
            .values(status=DeliveryStatus.BOUNCED)
        )
        queue.record_sent([(i, f"<{i}@example.com>") for i in ids], now=now)
        db.session.commit()
        rows = db.session.execute(
            select(Delivery.status, Delivery.message_id, Delivery.sent_at, Delivery.lease_owner)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        ).all()
        assert rows[:2] == [
            (DeliveryStatus.SENT, f"<{ids[0]}@example.com>", now, None),
            (DeliveryStatus.SENT, f"<{ids[1]}@example.com>", now, None),
        ]
        assert rows[2][0] is DeliveryStatus.BOUNCED
