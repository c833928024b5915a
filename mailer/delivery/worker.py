"""The worker loop: claim a batch, compose, send over one SMTP connection, record each outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any

from mailer import clock
from mailer.delivery import queue
from mailer.delivery.compose import Outgoing
from mailer.delivery.messages import SENDABLE_TO
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_delivery
from mailer.delivery.messages import why_not_send
from mailer.delivery.queue import RetryPolicy
from mailer.delivery.smtp import Connection
from mailer.delivery.smtp import ConnectionFailure
from mailer.delivery.smtp import DeliveryError
from mailer.delivery.smtp import PermanentDeliveryError
from mailer.delivery.smtp import SmtpSettings
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import SubscriberStatus

logger = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    """What a worker run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    batches: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retrying {self.retried}, failed {self.failed}, "
            f"cancelled {self.cancelled}"
        )


@dataclass
class WorkerSettings:
    """How a worker claims and retries; built from the app config by the caller."""

    batch_size: int = 100
    lease: timedelta = timedelta(minutes=5)
    poll_seconds: float = 2.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_config(cls, config: Any) -> WorkerSettings:
        """Read the MAILER_WORKER_* and MAILER_DELIVERY_* settings."""
        return cls(
            batch_size=int(config["WORKER_BATCH_SIZE"]),
            lease=timedelta(seconds=int(config["WORKER_LEASE_SECONDS"])),
            poll_seconds=float(config["WORKER_POLL_SECONDS"]),
            retry=RetryPolicy(
                max_attempts=int(config["DELIVERY_MAX_ATTEMPTS"]),
                base_seconds=int(config["DELIVERY_RETRY_BASE_SECONDS"]),
                max_seconds=int(config["DELIVERY_RETRY_MAX_SECONDS"]),
            ),
        )


@dataclass(frozen=True)
class Prepared:
    """A claimed delivery, composed and ready to send."""

    delivery_id: int
    attempts: int
    # The status its subscriber must still have when it is sent.
    subscriber_status: SubscriberStatus
    outgoing: Outgoing


def worker_name() -> str:
    """A name that is unique across machines and processes, recorded on each lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Sends queued deliveries. Must run inside an app context; owns its commits."""

    def __init__(
        self,
        *,
        smtp: SmtpSettings,
        mail: MailSettings,
        settings: WorkerSettings,
        connection: Connection | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.mail = mail
        self.settings = settings
        self.connection = connection or Connection(smtp)
        self.now = now
        self.owner = worker_name()
        self.stats = WorkerStats()

    def run_once(self) -> WorkerStats:
        """Send everything that is due now, then return what was done."""
        try:
            while self.process_batch():
                pass
        finally:
            self.connection.close()
        return self.stats

    def run_forever(self, stop: threading.Event) -> None:
        """Send as deliveries fall due until `stop` is set; survive any one failure."""
        try:
            while not stop.is_set():
                try:
                    claimed = self.process_batch()
                except Exception:
                    # A database outage or a bug must not stop the worker for good: what it
                    # had claimed is taken over when the lease runs out.
                    logger.exception("worker batch failed; carrying on")
                    db.session.rollback()
                    self.connection.close()
                    claimed = 0
                if not claimed:
                    self.connection.close()
                    stop.wait(self.settings.poll_seconds)
        finally:
            self.connection.close()

    def process_batch(self) -> int:
        """Claim one batch and send it; return how many deliveries were claimed."""
        ids = queue.claim_batch(
            owner=self.owner,
            limit=self.settings.batch_size,
            lease=self.settings.lease,
            now=self.now(),
        )
        db.session.commit()
        if not ids:
            return 0
        self.stats.batches += 1
        ready = [item for item in map(self._prepare, queue.load_claimed(ids)) if item]
        # Nothing is held open in the database while talking to the SMTP server.
        db.session.commit()
        for position, prepared in enumerate(ready):
            if not self._send(prepared):
                # The server cannot be reached: the rest of the batch waits with this one.
                rest = [later.delivery_id for later in ready[position + 1 :]]
                self._give_back(rest, attempts=prepared.attempts)
                break
        logger.info("batch of %s done: %s", len(ids), self.stats)
        return len(ids)

    def _prepare(self, delivery: Delivery) -> Prepared | None:
        """Compose one claimed delivery, or settle it at once if it must not be sent."""
        now = self.now()
        reason = why_not_send(delivery)
        if reason:
            queue.record_cancelled(delivery.id, owner=self.owner, reason=reason, now=now)
            self.stats.cancelled += 1
            return None
        if delivery.attempts > self.settings.retry.max_attempts:
            # A worker died on this delivery again and again: stop before it kills another.
            self._fail(delivery.id, f"gave up after {delivery.attempts - 1} attempts", now)
            return None
        try:
            outgoing = compose_delivery(delivery, self.mail, now=now)
        except (ValueError, UnicodeError) as error:
            self._fail(delivery.id, f"cannot build message: {error}", now)
            return None
        return Prepared(delivery.id, delivery.attempts, SENDABLE_TO[delivery.kind], outgoing)

    def _send(self, prepared: Prepared) -> bool:
        """Send one message, recorded before (lease renewed) and after; False if unreachable."""
        if not self._still_wanted(prepared):
            return True
        outgoing = prepared.outgoing
        reachable = True
        try:
            self.connection.send(outgoing.envelope_from, outgoing.recipient, outgoing.data)
        except PermanentDeliveryError as error:
            self._fail(prepared.delivery_id, str(error), self.now())
        except DeliveryError as error:
            reachable = not isinstance(error, ConnectionFailure)
            self._retry(prepared, str(error))
        else:
            queue.record_sent(prepared.delivery_id, message_id=outgoing.message_id, now=self.now())
            self.stats.sent += 1
        db.session.commit()
        return reachable

    def _still_wanted(self, prepared: Prepared) -> bool:
        """Renew the lease just before sending; settle the delivery if it is no longer wanted."""
        now = self.now()
        wanted = queue.renew_lease(
            prepared.delivery_id,
            owner=self.owner,
            subscriber_status=prepared.subscriber_status,
            lease=self.settings.lease,
            now=now,
        )
        if not wanted and queue.holds_lease(prepared.delivery_id, owner=self.owner):
            reason = "subscriber changed before it was sent"
            queue.record_cancelled(prepared.delivery_id, owner=self.owner, reason=reason, now=now)
            self.stats.cancelled += 1
        elif not wanted:
            logger.warning(
                "lease on delivery %s was taken over; not sending it", prepared.delivery_id
            )
        db.session.commit()
        return wanted

    def _retry(self, prepared: Prepared, error: str) -> None:
        retried = queue.record_retry(
            prepared.delivery_id,
            owner=self.owner,
            attempts=prepared.attempts,
            error=error,
            policy=self.settings.retry,
            now=self.now(),
        )
        if retried:
            self.stats.retried += 1
        else:
            self.stats.failed += 1

    def _give_back(self, delivery_ids: list[int], *, attempts: int) -> None:
        """Put untried deliveries back, due when the failed one is retried."""
        now = self.now()
        at = now + self.settings.retry.delay(attempts)
        queue.give_back(delivery_ids, owner=self.owner, at=at, now=now)
        db.session.commit()
        self.stats.retried += len(delivery_ids)

    def _fail(self, delivery_id: int, error: str, now: datetime) -> None:
        """Record a permanent failure."""
        logger.warning("delivery %s failed: %s", delivery_id, error)
        queue.record_failed(delivery_id, owner=self.owner, error=error, now=now)
        self.stats.failed += 1


def worker_from_config(config: Any, **overrides: Any) -> Worker:
    """Build a worker from the app settings."""
    return Worker(
        smtp=SmtpSettings.from_config(config),
        mail=MailSettings.from_config(config),
        settings=WorkerSettings.from_config(config),
        **overrides,
    )
