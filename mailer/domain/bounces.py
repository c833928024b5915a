"""Record what came back to the bounce inbox: bounces, complaints, unsubscribe emails.

A report acts only on the email its return path (or, for a complaint, our unguessable
Message-ID) names, while that very delivery exists: never on an address written inside it,
which anyone can write. What cannot be bound so is kept for staff.

Functions flush; the caller (the inbox) commits, and answers the sending server only then.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from typing import Any
from typing import Protocol

from sqlalchemy import case
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import subscriptions
from mailer.domain import suppressions
from mailer.domain.inbound import Received
from mailer.domain.inbound import keep
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import BounceKind
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import SuppressionReason
from mailer.models import counting
from mailer.tokens import Purpose
from mailer.tokens import is_our_message_id
from mailer.tokens import read_subscriber_token

logger = logging.getLogger(__name__)

ACTOR = "bounce-inbox"
# Deliveries that left us, and so can come back.
RETURNABLE = (DeliveryStatus.SENT, DeliveryStatus.SENDING)
# Bytes of a message read for its From header.
MAX_HEAD = 64 * 1024


class Finding(Protocol):
    """What the message means (mailer.delivery.returns.Outcome)."""

    @property
    def verdict(self) -> str: ...
    @property
    def delivery_id(self) -> int | None: ...
    @property
    def return_key(self) -> str | None: ...
    @property
    def message_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def diagnostic(self) -> str: ...
    @property
    def token(self) -> str: ...
    @property
    def problem(self) -> str: ...


@dataclass(frozen=True)
class SoftBounceRule:
    """How many soft bounces, within how long, suppress an address."""

    limit: int
    within: timedelta

    @classmethod
    def from_config(cls, config: Any) -> SoftBounceRule:
        """Read SOFT_BOUNCE_LIMIT and SOFT_BOUNCE_DAYS from a Flask config mapping."""
        return cls(
            int(config["SOFT_BOUNCE_LIMIT"]), timedelta(days=int(config["SOFT_BOUNCE_DAYS"]))
        )


def record(
    received: Received, findings: Iterable[Finding], *, rule: SoftBounceRule, now: datetime
) -> None:
    """Apply what one received message means; what cannot be acted on is kept for staff."""
    problems: list[str] = []
    for finding in findings:
        problem = _apply(finding, rule=rule, now=now)
        if problem and problem not in problems:
            problems.append(problem)
    if problems and _about_erased(received, findings):
        # Keeping it would store the address again, which exists now only as a hash.
        logger.info("message about an erased subscriber dropped: %s", "; ".join(problems))
    elif problems:
        keep(received, "; ".join(problems), now=now)


def _about_erased(received: Received, findings: Iterable[Finding]) -> bool:
    """Whether a message concerns an erased subscriber: it names one of their emails or
    links, or it comes from an address the suppression list knows only by its hash."""
    for finding in findings:
        subscriber_id = _subscriber_named(finding)
        if subscriber_id is not None:
            subscriber = db.session.get(Subscriber, subscriber_id)
            if subscriber is not None and subscriber.status is SubscriberStatus.ERASED:
                return True
    senders = [received.mail_from, *_from_addresses(received.content)]
    return any(_erased_address(sender) for sender in senders if "@" in sender)


def _subscriber_named(finding: Finding) -> int | None:
    """The subscriber whose email (by VERP or Message-ID) or link a finding names, if any."""
    if finding.token:
        try:
            return read_subscriber_token(Purpose.UNSUBSCRIBE, finding.token).subscriber_id
        except InvalidToken:
            return None
    delivery = _bound_delivery(finding)
    return None if delivery is None else delivery.subscriber_id


def _from_addresses(content: bytes) -> list[str]:
    """The addresses of a message's From header (none if it cannot be read)."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(content[:MAX_HEAD])
        return [address for _, address in getaddresses(headers.get_all("From", []))]
    except Exception:
        return []


def _erased_address(address: str) -> bool:
    """Whether the address is on the suppression list only as the hash of an erasure."""
    entry = suppressions.find(address.strip())
    return entry is not None and entry.email is None


def _apply(finding: Finding, *, rule: SoftBounceRule, now: datetime) -> str | None:
    """Act on one finding; return why it could not be acted on, if so."""
    verdict = finding.verdict
    if verdict == "ignored":
        logger.info("ignored for delivery %s: %s", finding.delivery_id, finding.problem)
        return None
    if verdict == "unsubscribe":
        return _unsubscribe(finding.token, now=now)
    if verdict == "policy":
        return f"refused for our message, not the address: {_detail(finding)}"
    if verdict not in ("hard", "soft", "complaint"):
        return finding.problem or "unreadable"
    delivery = _bound_delivery(finding)
    if delivery is None or delivery.subscriber is None:  # a partnership's: staff see it
        about = "that still exists" if delivery is None else "to a subscriber"
        return f"no email of ours {about} matches this {verdict} report"
    subscriber = delivery.subscriber
    if subscriber.status is SubscriberStatus.ERASED:
        # Only its hash is kept; a report would bring the address back.
        logger.info("%s report about an erased subscriber dropped", verdict)
        return None
    if delivery.kind is MessageKind.EMAIL_CHANGE:  # the address asked for, not theirs
        return f"{verdict} from the new address of a change request"
    if _recorded(verdict, delivery.id):
        # The same report again (anyone with a return path can send it): it adds nothing.
        logger.info("%s report for delivery %s seen before", verdict, delivery.id)
        return None
    if verdict == "complaint":
        _complaint(finding, delivery, subscriber, now=now)
    else:
        _bounce(finding, delivery, subscriber, rule=rule, now=now)
    return None


def _recorded(verdict: str, delivery_id: int) -> bool:
    """Whether a report of this kind was recorded for the delivery already."""
    statement = select(BounceEvent.id).where(
        BounceEvent.delivery_id == delivery_id, BounceEvent.kind == BounceKind(verdict)
    )
    return db.session.scalar(statement.limit(1)) is not None


def _bound_delivery(finding: Finding) -> Delivery | None:
    """The delivery a report is about: the one its return path names, if that very delivery
    still exists, else the one with the Message-ID it quotes, if that is one of our
    unguessable ones. Never one found by an address: anyone can write any address in a
    report, and send it to a return path of mail long gone."""
    if finding.delivery_id is not None:
        delivery = db.session.get(Delivery, finding.delivery_id)
        if delivery is not None and _same_key(delivery.return_key, finding.return_key):
            return delivery
    if finding.message_id and is_our_message_id(_angled(finding.message_id)):
        return db.session.scalars(
            select(Delivery).where(Delivery.message_id == _angled(finding.message_id)).limit(1)
        ).first()
    return None


def _same_key(stored: str | None, given: str | None) -> bool:
    """Whether a return path's key is the delivery's own. An old return path, without a key,
    binds only to a delivery made before keys (every later one has a key)."""
    if stored is None or given is None:
        return stored is None and given is None
    return hmac.compare_digest(stored, given)


def _bounce(
    finding: Finding,
    delivery: Delivery,
    subscriber: Subscriber,
    *,
    rule: SoftBounceRule,
    now: datetime,
) -> None:
    """Record a hard or soft bounce; suppress at once (hard) or after `rule` (soft)."""
    hard = finding.verdict == "hard"
    _event(BounceKind.HARD if hard else BounceKind.SOFT, finding, delivery, subscriber, now=now)
    if delivery.status in RETURNABLE:
        returnable = (Delivery.id == delivery.id) & Delivery.status.in_(RETURNABLE)
        counting.moving(returnable, DeliveryStatus.BOUNCED, now=now)
        delivery.status = DeliveryStatus.BOUNCED
        delivery.last_error = _detail(finding)[:2000]
        delivery.updated_at = now
    if hard:
        _suppress(subscriber, SuppressionReason.HARD_BOUNCE, _detail(finding), now=now)
        return
    count = _soft_bounces(subscriber.id, since=now - rule.within)
    if count >= rule.limit:
        detail = f"{count} soft bounces in {rule.within.days} days, the last: {_detail(finding)}"
        _suppress(subscriber, SuppressionReason.SOFT_BOUNCES, detail, now=now)


def _complaint(
    finding: Finding, delivery: Delivery, subscriber: Subscriber, *, now: datetime
) -> None:
    """A complaint is an objection: unsubscribe and suppress at once."""
    counting.complained(delivery.id)
    _event(BounceKind.COMPLAINT, finding, delivery, subscriber, now=now)
    origin = subscriptions.Origin(method="complaint")
    subscriptions.unsubscribe(subscriber, origin=origin, now=now)
    _suppress(subscriber, SuppressionReason.COMPLAINT, finding.diagnostic, now=now)


def _unsubscribe(token: str, *, now: datetime) -> str | None:
    """Unsubscribe whoever an emailed token names; say why not if it cannot be read."""
    try:
        subscriber = subscriptions.subscriber_for_token(Purpose.UNSUBSCRIBE, token, lock=True)
    except InvalidToken as error:
        return f"unsubscribe token not valid: {error}"
    origin = subscriptions.Origin(method="email")
    # Only an email that unsubscribes someone is recorded: the token may be sent at will.
    if subscriptions.unsubscribe(subscriber, origin=origin, now=now):
        db.session.add(
            BounceEvent(kind=BounceKind.UNSUBSCRIBE, received_at=now, subscriber_id=subscriber.id)
        )
        logger.info("subscriber %s unsubscribed by email", subscriber.id)
    return None


def _event(
    kind: BounceKind,
    finding: Finding,
    delivery: Delivery,
    subscriber: Subscriber,
    *,
    now: datetime,
) -> None:
    db.session.add(
        BounceEvent(
            kind=kind,
            received_at=now,
            delivery_id=delivery.id,
            subscriber_id=subscriber.id,
            status=finding.status[:20],
            diagnostic=finding.diagnostic[:1000],
        )
    )
    db.session.flush()
    logger.info("%s for subscriber %s", kind.value, subscriber.id, extra={"status": finding.status})


def _suppress(
    subscriber: Subscriber, reason: SuppressionReason, detail: str, *, now: datetime
) -> None:
    suppressions.suppress(subscriber.email, reason, detail=detail, actor=ACTOR, now=now)


def _soft_bounces(subscriber_id: int, *, since: datetime) -> int:
    """Soft bounces of a subscriber since a time, one per delivery (a repeated DSN counts once)."""
    counted = db.session.execute(
        select(
            func.count(distinct(BounceEvent.delivery_id)),
            func.sum(case((BounceEvent.delivery_id.is_(None), 1), else_=0)),
        )
        .where(BounceEvent.subscriber_id == subscriber_id)
        .where(BounceEvent.kind == BounceKind.SOFT)
        .where(BounceEvent.received_at >= since)
    ).one()
    return int(counted[0] or 0) + int(counted[1] or 0)


def _detail(finding: Finding) -> str:
    return " ".join(part for part in (finding.status, finding.diagnostic) if part)


def _angled(message_id: str) -> str:
    """A Message-ID as the worker stores it, in angle brackets."""
    return f"<{message_id.strip().strip('<>')}>"
