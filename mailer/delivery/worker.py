"""The worker loop: claim a batch, compose it, send it over K connections, record the outcomes."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Sequence
from concurrent.futures import wait
from dataclasses import fields
from dataclasses import replace
from datetime import datetime
from typing import Any
from typing import TypeVar

from mailer import clock
from mailer.database import again_if_disconnected
from mailer.delivery import queue
from mailer.delivery.ahead import Ahead
from mailer.delivery.ahead import AheadComposer
from mailer.delivery.ahead import Remaining
from mailer.delivery.compose import Outgoing
from mailer.delivery.dkim import Signer
from mailer.delivery.messages import SENDABLE_TO
from mailer.delivery.messages import MailSettings
from mailer.delivery.pool import Flight
from mailer.delivery.pool import Result
from mailer.delivery.pool import SenderPool
from mailer.delivery.preparing import Preparation
from mailer.delivery.preparing import Prepared
from mailer.delivery.preparing import Preparer
from mailer.delivery.preparing import Refused
from mailer.delivery.settings import WorkerSettings
from mailer.delivery.settings import WorkerStats
from mailer.delivery.settings import worker_name
from mailer.delivery.smtp import ConnectionFailure
from mailer.delivery.smtp import PermanentDeliveryError
from mailer.delivery.smtp import SmtpSettings
from mailer.extensions import db

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Worker:
    """Sends queued deliveries: claims a batch, has the preparer compose it, sends it over K
    connections and records the outcomes. Must run inside an app context; owns its commits.
    """

    def __init__(
        self,
        *,
        smtp: SmtpSettings,
        mail: MailSettings,
        settings: WorkerSettings,
        now: Callable[[], datetime] = clock.now,
        tls_context: ssl.SSLContext | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.settings = settings
        self.pool = SenderPool(
            smtp, size=settings.concurrency, rate=settings.send_rate, tls_context=tls_context
        )
        self.now = now
        self.owner = worker_name()
        self.stats = WorkerStats()
        self.preparer = Preparer(
            mail=mail, max_attempts=settings.retry.max_attempts, now=now, signer=signer
        )
        self.ahead: AheadComposer | None = None
        self._runs_sent = False

    def run_once(self, stop: threading.Event | None = None) -> WorkerStats:
        """Send everything that is due now (or until `stop` is set), then return what was
        done."""
        try:
            while not (stop is not None and stop.is_set()) and self.process_batch():
                pass
        finally:
            self.shutdown()
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
                    self.pool.close()
                    claimed = 0
                if not claimed:
                    self.pool.close()
                    stop.wait(self.settings.poll_seconds)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Close the SMTP sessions and stop the threads."""
        self.pool.shutdown()
        if self.ahead is not None:
            self.ahead.shutdown()

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
        # The first part is composed here; each next one on the composing thread while the
        # part before it is sent.
        size = self.settings.messages_per_chunk()
        parts = [ids[start : start + size] for start in range(0, len(ids), size)]
        # Nothing is held open in the database while talking to the SMTP server.
        ready = self._surviving_disconnect(
            lambda: self._commit(self.prepare(parts[0])), what="composing"
        )
        self._runs_sent = False
        self.send(ready, upcoming=parts[1:])
        if self._runs_sent:
            queue.finish_runs(now=self.now())
            db.session.commit()
        logger.info("batch of %s done: %s", len(ids), self.stats)
        return len(ids)

    def prepare(self, ids: Sequence[int]) -> list[Prepared]:
        """Compose the claimed deliveries; settle at once those that must not be sent."""
        return self._settle_refused(self.preparer.prepare(ids))

    def _settle_refused(self, composed: Sequence[Preparation]) -> list[Prepared]:
        """Settle the composed deliveries that must not be sent; return the others."""
        ready = []
        for done in composed:
            if isinstance(done, Prepared):
                ready.append(done)
            elif isinstance(done, Refused):
                self._cancel(done.delivery_id, done.reason, self.now())
            else:
                self._fail(done.delivery_id, done.error, self.now())
        return sorted(ready, key=lambda item: item.delivery_id)

    def send(self, ready: Sequence[Prepared], upcoming: Sequence[Sequence[int]] = ()) -> bool:
        """Send composed deliveries chunk by chunk, each recorded before (leases renewed,
        subscribers re-checked) and after (in bulk); the parts of the batch still to compose
        (`upcoming`, ids) are composed ahead, one at a time, while the chunk before goes.

        The connections are not left idle while the database is written: each chunk's leases
        are renewed while the chunk before it is on its way, and its outcomes recorded while
        the chunk after it is. A chunk stops starting messages when half its lease has passed
        since the renewal (a slow server, a low rate cap); the rest go in a later chunk, with
        their leases renewed, so no other worker takes them over meanwhile. False if the server
        cannot be reached: then the rest waits, without using up its attempts."""
        size = self.settings.messages_per_chunk()
        rest = Remaining(list(ready), deque(upcoming))
        rest.following = self._compose_next(rest.parts)
        flight: Flight[Prepared] | None = None
        landed: list[Result[Prepared]] = []  # a chunk back from the wire, not recorded yet
        try:
            while rest or flight is not None:
                go, renewed = self._renewed(self._next_chunk(rest, size), later=rest.ids())
                if flight is not None:
                    landed, untried = self._land(flight)
                    flight = None
                    if any(isinstance(r.error, ConnectionFailure) for r in landed):
                        self._give_all_back(landed, [*untried, *go], rest)
                        landed = []
                        return False
                    # Left untried at the deadline: they go in a later chunk, renewed again.
                    rest.pending[:0] = untried
                    if go and time.monotonic() - renewed > self.settings.lease.total_seconds() / 4:
                        go, renewed = self._renewed(go, later=rest.ids())
                flight = self._launch(go, renewed)
                if landed:
                    self._record_landed(landed)
                    landed = []
        finally:
            self._abandon(flight, landed)
            # The Preparer is not shared: nothing may still be composing when this returns.
            if rest.following is not None:
                wait([rest.following.future])
        return True

    def _next_chunk(self, rest: Remaining, size: int) -> list[Prepared]:
        """Take the next chunk off `rest`, settling the part composed ahead if it is needed."""
        if rest.following is not None and len(rest.pending) < size:
            rest.pending += self._settle_and_commit(rest.following.result())
            rest.following = self._compose_next(rest.parts)
        chunk, rest.pending = rest.pending[:size], rest.pending[size:]
        return chunk

    def _launch(self, go: list[Prepared], renewed: float) -> Flight[Prepared] | None:
        """Start sending a renewed chunk; none may start once half its lease has passed."""
        if not go:
            return None
        self._runs_sent = self._runs_sent or any(item.run_id for item in go)
        deadline = renewed + self.settings.lease.total_seconds() / 2
        return self.pool.start(go, _outgoing, deadline=deadline)

    def _record_landed(self, results: list[Result[Prepared]]) -> bool:
        """Record the outcomes of a chunk that has landed (while the next one goes)."""
        return self._surviving_disconnect(lambda: self._record(results, []))

    def _give_all_back(
        self, results: list[Result[Prepared]], untried: list[Prepared], rest: Remaining
    ) -> None:
        """The server could not be reached: record the chunk that found so, and give back the
        rest of the batch, due at its retry."""
        back, also = [*untried, *rest.pending], rest.uncomposed_ids()
        # A new list each try: `_record` adds to the one it is given.
        self._surviving_disconnect(lambda: self._record(results, list(back), also=also))

    def _renewed(
        self, chunk: Sequence[Prepared], later: Sequence[int]
    ) -> tuple[list[Prepared], float]:
        """The part of `chunk` still wanted, its leases renewed, and when (time.monotonic())."""
        renewed = time.monotonic()
        if not chunk:
            return [], renewed
        return self._still_wanted(chunk, later=later), renewed

    def _land(self, flight: Flight[Prepared]) -> tuple[list[Result[Prepared]], list[Prepared]]:
        """Wait for a chunk on its way, recording what the server accepts as it goes."""
        return flight.land(self._record_sent_so_far)

    def _abandon(self, flight: Flight[Prepared] | None, landed: list[Result[Prepared]]) -> None:
        """After a failure with a chunk on its way or landed and not recorded: start no more
        of it, and record what the server accepted if the database lets us; the rest is taken
        over at lease end."""
        if flight is None and not landed:
            return
        if flight is not None:
            flight.cancel()
            landed = [*landed, *flight.settle()]
        try:
            # The failed transaction (on PostgreSQL, aborted) holds nothing worth keeping.
            db.session.rollback()
            self._record_sent_so_far(landed)
        except Exception:
            logger.exception("could not record what was sent before the failure")
            db.session.rollback()

    def _compose_next(self, parts: deque[Sequence[int]]) -> Ahead | None:
        """Start composing the next part of the batch, if any is left."""
        if not parts:
            return None
        if self.ahead is None:
            self.ahead = AheadComposer(self.preparer)
        return self.ahead.submit(parts.popleft())

    def _still_wanted(self, chunk: Sequence[Prepared], later: Sequence[int] = ()) -> list[Prepared]:
        """Renew the chunk's leases before it goes (while the chunk before it is on its way),
        and keep those of the rest of the batch (`later`, ids); settle what is no longer
        wanted."""
        return self._surviving_disconnect(lambda: self._renew(chunk, later), what="renewing leases")

    def _renew(self, chunk: Sequence[Prepared], later: Sequence[int]) -> list[Prepared]:
        now = self.now()
        queue.extend_leases(later, owner=self.owner, lease=self.settings.lease, now=now)
        ids = [item.delivery_id for item in chunk]
        wanted = queue.renew_leases(
            ids, owner=self.owner, sendable=SENDABLE_TO, lease=self.settings.lease, now=now
        )
        unwanted = [delivery_id for delivery_id in ids if delivery_id not in wanted]
        if unwanted:
            cancelled, _ = queue.settle_unwanted(
                unwanted, owner=self.owner, sendable=SENDABLE_TO, now=now
            )
            self.stats.cancelled += cancelled
        db.session.commit()
        return [item for item in chunk if item.delivery_id in wanted]

    def _record_sent_so_far(self, results: Sequence[Result[Prepared]]) -> None:
        """Record what the server accepted while the chunk is still going: a worker killed
        mid-chunk then repeats only the last moment's messages, not the whole chunk."""
        sent = [(r.item.delivery_id, r.item.outgoing.message_id) for r in results if not r.error]
        if sent:
            self._surviving_disconnect(lambda: self._commit_sent(sent))

    def _settle_and_commit(self, composed: Sequence[Preparation]) -> list[Prepared]:
        """Settle what must not be sent of a part composed ahead, and commit."""
        return self._surviving_disconnect(
            lambda: self._commit(self._settle_refused(composed)), what="settling"
        )

    @staticmethod
    def _commit(ready: list[Prepared]) -> list[Prepared]:
        db.session.commit()
        return ready

    def _commit_sent(self, sent: list[tuple[int, str]]) -> bool:
        queue.record_sent(sent, now=self.now())
        db.session.commit()
        return True

    def _surviving_disconnect(self, work: Callable[[], T], what: str = "recording") -> T:
        """Run `work` (it commits); if the database dropped the connection meanwhile (a
        restart, a failover), run it once more on a new one, counting only that run: what the
        relay accepted must be recorded, or it would go twice when another worker takes the
        lease over."""
        before = replace(self.stats)

        def forget_counts() -> None:
            for name in (each.name for each in fields(WorkerStats)):
                setattr(self.stats, name, getattr(before, name))

        return again_if_disconnected(work, what=what, before_again=forget_counts)

    def _record(
        self, results: list[Result[Prepared]], untried: list[Prepared], also: Sequence[int] = ()
    ) -> bool:
        """Record a chunk's outcomes; give back the untried (and the ids `also`, the parts of
        the batch not composed yet) if the server was unreachable."""
        now = self.now()
        sent = [(r.item.delivery_id, r.item.outgoing.message_id) for r in results if not r.error]
        queue.record_sent(sent, now=now)
        self.stats.sent += len(sent)
        unreachable = sorted(
            (r for r in results if isinstance(r.error, ConnectionFailure)),
            key=lambda r: r.item.delivery_id,
        )
        for result in results:
            error = result.error
            if error is None:
                continue
            if (
                unreachable
                and result is not unreachable[0]
                and isinstance(error, ConnectionFailure)
            ):
                # Only the first message to find the server unreachable uses up an attempt.
                untried.append(result.item)
            elif isinstance(error, PermanentDeliveryError):
                self._fail(result.item.delivery_id, str(error), now)
            else:
                self._retry(result.item, str(error))
        if unreachable:
            first = unreachable[0].item
            at = now + self.settings.retry.delay(first.attempts)
            back = [item.delivery_id for item in untried] + list(also)
            queue.give_back(back, owner=self.owner, at=at, now=now)
            self.stats.retried += len(back)
        db.session.commit()
        return not unreachable

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

    def _cancel(self, delivery_id: int, reason: str, now: datetime) -> None:
        """Record that a delivery is no longer wanted."""
        queue.record_cancelled(delivery_id, owner=self.owner, reason=reason, now=now)
        self.stats.cancelled += 1

    def _fail(self, delivery_id: int, error: str, now: datetime) -> None:
        """Record a permanent failure."""
        logger.warning("delivery %s failed: %s", delivery_id, error)
        queue.record_failed(delivery_id, owner=self.owner, error=error, now=now)
        self.stats.failed += 1


def _outgoing(prepared: Prepared) -> Outgoing:
    return prepared.outgoing


def worker_from_config(config: Any, *, concurrency: int | None = None, **overrides: Any) -> Worker:
    """Build a worker from the app settings, loading the DKIM keys they name.

    :raises DkimKeyError: a MAILER_DKIM_* setting names a key that cannot sign.
    """
    return Worker(
        smtp=SmtpSettings.from_config(config),
        mail=MailSettings.from_config(config),
        settings=WorkerSettings.from_config(config, concurrency=concurrency),
        signer=Signer.from_config(config),
        **overrides,
    )
