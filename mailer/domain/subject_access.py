"""Subject access (UK GDPR Articles 15 and 20): everything held about one address, as JSON.

The document follows `subject_access.schema.json`, next to this module.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from mailer.domain import audit
from mailer.domain import contact
from mailer.domain import practitioners
from mailer.domain import suppressions
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import SendRun
from mailer.models import Subscriber

SCHEMA_PATH = Path(__file__).with_name("subject_access.schema.json")
FORMAT = "csp-news-subject-access/1"


def subject_access(email: str, *, actor: str, now: datetime) -> dict[str, Any]:
    """The document of one (normalised) address; the request goes into the audit log."""
    subscriber = db.session.scalar(
        select(Subscriber).where(Subscriber.email_key == email.casefold())
    )
    entry = suppressions.find(email)
    document = {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "address": email if subscriber is None else subscriber.email,
        "controller": current_app.config["PRIVACY_CONTROLLER"],
        "contact": current_app.config["PRIVACY_CONTACT"],
        "retention_days": _retention(),
        "subscriber": None if subscriber is None else _profile(subscriber),
        "contact_messages": contact.messages_from(email),
        "suppression": None
        if entry is None
        else {"reason": entry.reason.value, "since": entry.created_at.isoformat()},
    }
    target: Subscriber | str = subscriber if subscriber is not None else "Subscriber"
    audit.record(actor, "subscriber.access_export", target, now=now)
    return document


def _profile(subscriber: Subscriber) -> dict[str, Any]:
    """The subscriber's record, subscriptions, consent history, emails and what came back."""
    return {
        "status": subscriber.status.value,
        "created_at": subscriber.created_at.isoformat(),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        "language": subscriber.language,
        **practitioners.profile_json(subscriber),
        "subscriptions": [
            {
                "topic": s.topic.slug,
                "topic_name": s.topic.name,
                "frequency": s.frequency.value,
                "since": s.created_at.isoformat(),
            }
            for s in subscriber.subscriptions
        ],
        "consent_events": [_consent(event) for event in _consent_events(subscriber.id)],
        "emails": _emails(subscriber.id),
        "bounces_and_complaints": _bounces(subscriber.id),
    }


def _consent_events(subscriber_id: int) -> list[ConsentEvent]:
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.subscriber_id == subscriber_id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )


def _consent(event: ConsentEvent) -> dict[str, Any]:
    """One consent event, with where to read the privacy notice the person was shown."""
    base = current_app.config["BASE_URL"]
    return {
        "action": event.action.value,
        "at": event.at.isoformat(),
        "ip": event.ip,
        "user_agent": event.user_agent,
        "wording_version": event.wording_version,
        "notice_version": event.notice_version,
        "notice_url": f"{base}/privacy/{event.notice_version}" if event.notice_version else None,
        "detail": event.detail,
    }


def _emails(subscriber_id: int) -> list[dict[str, Any]]:
    """Every email recorded for the subscriber, oldest first."""
    rows = db.session.execute(
        select(Delivery, SendRun.key)
        .outerjoin(SendRun, SendRun.id == Delivery.run_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.id)
    )
    return [
        {
            "kind": delivery.kind.value,
            "run": run_key,
            "status": delivery.status.value,
            "queued_at": delivery.created_at.isoformat(),
            "sent_at": _iso(delivery.sent_at),
            "attempts": delivery.attempts,
            "message_id": delivery.message_id,
            "error": delivery.last_error,
        }
        for delivery, run_key in rows
    ]


def _bounces(subscriber_id: int) -> list[dict[str, Any]]:
    events = db.session.scalars(
        select(BounceEvent)
        .where(BounceEvent.subscriber_id == subscriber_id)
        .order_by(BounceEvent.received_at, BounceEvent.id)
    )
    return [
        {
            "kind": event.kind.value,
            "received_at": event.received_at.isoformat(),
            "status": event.status,
            "diagnostic": event.diagnostic,
        }
        for event in events
    ]


def _retention() -> dict[str, int]:
    config = current_app.config
    return {
        "unconfirmed_sign_ups": int(config["UNCONFIRMED_RETENTION_DAYS"]),
        "unsubscribed_addresses": int(config["UNSUBSCRIBED_RETENTION_DAYS"]),
        "email_records": int(config["DELIVERY_RETENTION_DAYS"]),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
