"""The composing half of the worker: given the ids of claimed deliveries, build each message
to send, or say why it must not go. Reads the queue, writes nothing: the worker records."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from email.errors import MessageError
from email.utils import format_datetime
from typing import Any

from mailer.delivery import claimed
from mailer.delivery.compose import Outgoing
from mailer.delivery.content import RunContent
from mailer.delivery.content import digest_for
from mailer.delivery.content import run_content
from mailer.delivery.content import subscriber_topics
from mailer.delivery.dkim import Signer
from mailer.delivery.fanout import Filler
from mailer.delivery.fanout import Marks
from mailer.delivery.fanout import Prototype
from mailer.delivery.fanout import Recipient
from mailer.delivery.mail_language import page_root
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_delivery
from mailer.delivery.messages import render_alert
from mailer.delivery.messages import render_bulletin
from mailer.delivery.messages import render_digest
from mailer.delivery.messages import run_prototype
from mailer.delivery.messages import why_not_send
from mailer.delivery.verp import verp_address
from mailer.models import Bulletin
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token_maker

# Distinct messages a worker keeps laid out, across batches of the same runs.
PROTOTYPES_KEPT = 4096
# Gmail shows about 102 KB of a message before clipping the rest: a digest stays under this.
MAX_DIGEST_BYTES = 100_000


@dataclass(frozen=True)
class Prepared:
    """A claimed delivery, composed and ready to send."""

    delivery_id: int
    attempts: int
    outgoing: Outgoing
    run_id: int | None = None


@dataclass(frozen=True)
class Refused:
    """A claimed delivery that no longer applies (the subscriber left, nothing is left to
    read): to be cancelled."""

    delivery_id: int
    reason: str


@dataclass(frozen=True)
class Failed:
    """A claimed delivery that cannot be sent, ever: to be failed."""

    delivery_id: int
    error: str


Preparation = Prepared | Refused | Failed


class Preparer:
    """Composes claimed deliveries. Must run inside an app context.

    The lifecycle emails are composed one by one. List mail of a send run is rendered once
    per distinct content (the same items under the same topics) and filled in per recipient;
    the laid-out messages are kept across batches.
    """

    def __init__(
        self,
        *,
        mail: MailSettings,
        max_attempts: int,
        now: Callable[[], datetime],
        signer: Signer | None = None,
    ) -> None:
        self.mail = mail
        self.max_attempts = max_attempts
        self.now = now
        self.signer = signer
        self._prototypes: OrderedDict[tuple[Any, ...], Prototype | None] = OrderedDict()
        self._manage_token = subscriber_token_maker(Purpose.MANAGE)
        self._unsubscribe_token = subscriber_token_maker(Purpose.UNSUBSCRIBE)
        # Distinct messages rendered so far (each content once per language), for benches.
        self.rendered = 0

    def prepare(self, ids: Sequence[int]) -> list[Preparation]:
        """Compose the claimed deliveries, or say why each of the others must not be sent."""
        rows = claimed.load_claimed_rows(ids)
        # The emails of no run: to subscribers, and to partnerships (which have no row here).
        lifecycle = sorted(set(ids) - {row.delivery_id for row in rows if row.run_id is not None})
        done = [self._prepare(delivery) for delivery in claimed.load_claimed(lifecycle)]
        by_run: dict[int, list[claimed.Claimed]] = {}
        for row in rows:
            if row.run_id is not None:
                by_run.setdefault(row.run_id, []).append(row)
        if by_run:
            filler = Filler(
                manage_token=self._manage_token,
                unsubscribe_token=self._unsubscribe_token,
                date=format_datetime(self.now()),
            )
            for run_id, members in by_run.items():
                done += self._prepare_run(run_id, members, filler)
        return done

    def _prepare(self, delivery: Delivery) -> Preparation:
        """Compose one claimed lifecycle email, or say why it must not be sent."""
        reason = why_not_send(delivery)
        if reason:
            return Refused(delivery.id, reason)
        worn_out = self._worn_out(delivery.id, delivery.attempts)
        if worn_out:
            return worn_out
        try:
            outgoing = compose_delivery(delivery, self.mail, now=self.now())
            outgoing = self._finished(outgoing, delivery.id, delivery.return_key)
        except (ValueError, UnicodeError) as error:
            return Failed(delivery.id, f"cannot build message: {error}")
        return Prepared(delivery.id, delivery.attempts, outgoing)

    def _prepare_run(
        self, run_id: int, members: list[claimed.Claimed], filler: Filler
    ) -> list[Preparation]:
        """Fill in each recipient's copy of the messages of one run."""
        content = run_content(run_id)
        topics: dict[int, frozenset[int]] = {}
        if content is not None and content.frequency is not Frequency.IMMEDIATE:
            topics = subscriber_topics([row.subscriber_id for row in members], content.frequency)
        done: list[Preparation] = []
        for row in members:
            worn_out = self._worn_out(row.delivery_id, row.attempts)
            if worn_out:
                done.append(worn_out)
                continue
            followed = topics.get(row.subscriber_id, frozenset())
            try:
                proto = self._prototype(content, followed, row.language) if content else None
            except (ValueError, UnicodeError, MessageError) as error:
                done.append(Failed(row.delivery_id, f"cannot build message: {error}"))
                continue
            if proto is None:
                reason = "nothing left to read: every item was withdrawn"
                done.append(Refused(row.delivery_id, reason))
                continue
            done.append(self._fill(proto, row, filler))
        return done

    def _fill(self, proto: Prototype, row: claimed.Claimed, filler: Filler) -> Preparation:
        """One recipient's copy of a run's message."""
        recipient = Recipient(row.email, row.subscriber_id, row.token_version)
        try:
            outgoing = filler.fill(proto, recipient)
            outgoing = self._finished(outgoing, row.delivery_id, row.return_key)
        except (ValueError, UnicodeError) as error:
            return Failed(row.delivery_id, f"cannot build message: {error}")
        return Prepared(row.delivery_id, row.attempts, outgoing, row.run_id)

    def _prototype(
        self, content: RunContent, followed: frozenset[int], language: str
    ) -> Prototype | None:
        """The laid-out message in `language` for readers of `content` who follow `followed`
        (rendered on first use); None when nothing is left for them to read."""
        immediate = content.frequency is Frequency.IMMEDIATE
        key = (content.run_id, content.signature, None if immediate else followed, language)
        if key in self._prototypes:
            self._prototypes.move_to_end(key)
            return self._prototypes[key]
        proto = None
        self.rendered += 1
        if content.bulletin is not None:
            proto = self._bulletin_prototype(content.bulletin, content.items, language)
        elif immediate and content.items:
            marks = Marks.new()
            rendered = render_alert(
                content.items[0],
                links=marks.links(page_root(self.mail.base_url, language)),
                settings=self.mail,
                now=self.now(),
                language=language,
            )
            proto = run_prototype(rendered, self.mail, content.frequency, marks)
        elif not immediate:
            proto = self._digest_prototype(content, followed, language)
        self._prototypes[key] = proto
        if len(self._prototypes) > PROTOTYPES_KEPT:
            self._prototypes.popitem(last=False)
        return proto

    def _bulletin_prototype(
        self, bulletin: Bulletin, items: list[NewsItem], language: str
    ) -> Prototype:
        """Lay out a bulletin once for all its readers in `language`; it may feature no items."""
        marks = Marks.new()
        links = marks.links(page_root(self.mail.base_url, language))
        rendered = render_bulletin(
            bulletin, items, links=links, settings=self.mail, language=language
        )
        return run_prototype(rendered, self.mail, Frequency.IMMEDIATE, marks, kind="bulletin")

    def _digest_prototype(
        self, content: RunContent, followed: frozenset[int], language: str
    ) -> Prototype | None:
        """Lay out a digest, with fewer items (and a link to the rest) if it would be heavier
        than mail providers show in full."""
        cap = self.mail.digest_max_items
        while content.period is not None:
            digest = digest_for(content, followed, cap=cap)
            if digest is None:
                return None
            marks = Marks.new()
            rendered = render_digest(
                digest,
                frequency=content.frequency,
                period=content.period,
                links=marks.links(page_root(self.mail.base_url, language)),
                settings=self.mail,
                language=language,
            )
            proto = run_prototype(rendered, self.mail, content.frequency, marks)
            size = proto.body_size()
            if size <= MAX_DIGEST_BYTES or cap <= 1:
                return proto
            cap = max(1, min(cap - 1, cap * MAX_DIGEST_BYTES // size))
        return None

    def _finished(self, outgoing: Outgoing, delivery_id: int, key: str | None) -> Outgoing:
        """The message with the delivery's own VERP return path (bounces come back naming it)
        and, when a key is configured, its DKIM signatures in front; the signatures cover these
        exact bytes, so nothing may change them after this.

        :raises ValueError: the message cannot be signed.
        """
        return_path = verp_address(delivery_id, key, self.mail.bounce_domain)
        outgoing = replace(outgoing, envelope_from=return_path)
        if self.signer is None:
            return outgoing
        return replace(outgoing, data=self.signer.sign(outgoing.data))

    def _worn_out(self, delivery_id: int, attempts: int) -> Failed | None:
        """A worker died on this delivery again and again: stop before it kills another."""
        if attempts > self.max_attempts:
            return Failed(delivery_id, f"gave up after {attempts - 1} attempts")
        return None
