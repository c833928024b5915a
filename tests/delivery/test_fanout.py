"""Render once, send to many: every filled copy is a correct email of its own, and the pool
sends each copy once over a few connections."""

from __future__ import annotations

import email
import re
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime

import pytest
from flask import current_app
from sqlalchemy import select

from mailer.delivery import messages
from mailer.delivery import queue
from mailer.delivery.compose import Outgoing
from mailer.delivery.compose import Rendered
from mailer.delivery.compose import build_message
from mailer.delivery.compose import list_headers
from mailer.delivery.compose import recipient_header
from mailer.delivery.compose import serialise
from mailer.delivery.compose import unsubscribe_mailto
from mailer.delivery.content import digest_for
from mailer.delivery.content import run_content
from mailer.delivery.fanout import Filler
from mailer.delivery.fanout import Marks
from mailer.delivery.fanout import Recipient
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import render_alert
from mailer.delivery.messages import render_digest
from mailer.delivery.messages import run_prototype
from mailer.delivery.pool import SenderPool
from mailer.delivery.pool import TokenBucket
from mailer.delivery.preparing import Prepared
from mailer.delivery.smtp import ConnectionFailure
from mailer.delivery.smtp import SmtpSettings
from mailer.delivery.worker import worker_from_config
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.domain.subscriptions import normalise_address
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import Subscriber
from mailer.models import Subscription
from mailer.models import Topic
from mailer.tokens import Purpose
from mailer.tokens import read_subscriber_token
from mailer.tokens import subscriber_token_maker
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import ALLOWED_SMTP_PORTS
from tests.helpers import link
from tests.helpers import send_queued

# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
NOW = END + timedelta(minutes=1)
BASE_URL = "https://news.example.gov.uk"
FROM_DOMAIN = "csp-news.localhost"
TITLE = "Councils’ café patrols: Safer Streets Fund round 6 opens"
LIST_UNSUBSCRIBE = re.compile(
    rf"<{re.escape(BASE_URL)}/unsubscribe/(?P<token>[\w.-]+)>, "
    r"<mailto:unsubscribe@csp-news\.localhost\?subject=unsubscribe%20(?P<mailto_token>[\w.-]+)>"
)
# The marks the tests render with; the worker makes its own for each message.
MARKS = Marks.new()
# Headers that differ between any two copies by design.
PER_COPY = {"date", "message-id"}


@pytest.fixture
def app_settings(app_settings):
    app_settings["BASE_URL"] = BASE_URL
    app_settings["MAIL_REPLY_TO"] = f"CSP news team <team@{FROM_DOMAIN}>"
    return app_settings


@dataclass
class Made:
    """The copies a worker filled in for one run, and what the templates rendered for them."""

    rendered: Rendered
    copies: list[Outgoing]
    subscribers: dict[str, int]


def _parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _prepared(app, now: datetime = NOW) -> list[Prepared]:
    """Claim everything due and let a worker fill in each copy, without sending."""
    with app.app_context():
        worker = worker_from_config(app.config, now=lambda: now)
        ids = queue.claim_batch(
            owner=worker.owner, limit=1000, lease=worker.settings.lease, now=now
        )
        db.session.commit()
        prepared = worker.prepare(ids)
        db.session.commit()
        worker.pool.shutdown()
        return prepared


def _publish(frequency: Frequency, *, summary: str = "Bids close on 15 January.") -> NewsItem:
    """Two items in the period ending at END; three readers of funding and events."""
    add_readers(3, follows={"funding": frequency, "events": frequency}, now=END)
    item = publish_news(
        TITLE, topics=("funding", "events"), at=END - timedelta(hours=2), summary=summary
    )
    publish_news("Partnership conference", topics=("events",), at=END - timedelta(hours=1))
    db.session.commit()
    return item


def _render_digest(run_id: int, slugs: tuple[str, ...]) -> Rendered:
    """What the digest templates give readers of `slugs`, links still marked."""
    settings = MailSettings.from_config(current_app.config)
    content = run_content(run_id)
    assert content is not None
    assert content.period is not None
    followed = frozenset(db.session.scalars(select(Topic.id).where(Topic.slug.in_(slugs))))
    digest = digest_for(content, followed, cap=settings.digest_max_items)
    assert digest is not None
    return render_digest(
        digest,
        frequency=content.frequency,
        period=content.period,
        links=MARKS.links(settings.base_url),
        settings=settings,
    )


def _make_run(app, kind: str, *, summary: str = "Bids close on 15 January.") -> Rendered:
    """Make a run of `kind` from real data; return what its templates render, links marked."""
    with app.app_context():
        settings = MailSettings.from_config(app.config)
        if kind == "digest":
            _publish(Frequency.DAILY, summary=summary)
            schedule = periods.Schedule.from_config(app.config)
            period = schedule.period_ending(Frequency.DAILY, END)
            run, _ = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=NOW)
            db.session.commit()
            return _render_digest(run.id, ("funding", "events"))
        item = _publish(Frequency.IMMEDIATE, summary=summary)
        send_runs.make_alert_run(item, actor="test", now=NOW)
        db.session.commit()
        links = MARKS.links(settings.base_url)
        return render_alert(item, links=links, settings=settings, now=NOW)


def _make(app, kind: str, *, summary: str = "Bids close on 15 January.") -> Made:
    """Make a run of `kind` and fill in its copies as the worker does, without sending."""
    rendered = _make_run(app, kind, summary=summary)
    with app.app_context():
        subscribers = dict(db.session.execute(select(Subscriber.email, Subscriber.id)).all())
    copies = [item.outgoing for item in _prepared(app)]
    assert len(copies) == 3
    return Made(rendered, copies, subscribers)


@pytest.fixture(params=["digest", "alert"])
def made(request, app) -> Made:
    return _make(app, request.param)


def _tokens(message: EmailMessage) -> tuple[str, str]:
    """The manage and unsubscribe tokens a copy carries."""
    text = _part(message, "plain")
    manage = link(text, "/manage/").rpartition("/")[2]
    match = LIST_UNSUBSCRIBE.fullmatch(str(message["List-Unsubscribe"]))
    assert match, message["List-Unsubscribe"]
    return manage, match["token"]


def _filled(rendered: Rendered, manage: str, unsubscribe: str) -> Rendered:
    """`rendered` with one recipient's tokens where the marks were."""

    def fill(body: str) -> str:
        return body.replace(MARKS.manage, manage).replace(MARKS.unsubscribe, unsubscribe)

    return Rendered(rendered.subject, fill(rendered.text), fill(rendered.html))


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def _newlines(body: str) -> str:
    """A body as the templates wrote it: LF line ends, ending in one."""
    return body.replace("\r\n", "\n").rstrip("\n") + "\n"


def _header_lines(data: bytes) -> list[bytes]:
    """The header section's logical lines, continuation lines joined to their field."""
    head = data.split(b"\r\n\r\n", 1)[0]
    return re.split(rb"\r\n(?![ \t])", head)


def test_each_copy_parses_without_defects_in_crlf_lines_of_legal_length(made):
    for copy in made.copies:
        message = _parse(copy.data)
        assert [part.defects for part in message.walk()] == [[], [], []]
        assert copy.data.endswith(b"\r\n")
        assert copy.data.count(b"\n") == copy.data.count(b"\r\n") == copy.data.count(b"\r")
        head, body = copy.data.split(b"\r\n\r\n", 1)
        assert max(map(len, head.split(b"\r\n"))) <= 998
        # Quoted-printable lines are at most 76 characters, 78 with their CRLF.
        assert max(map(len, body.split(b"\r\n"))) <= 76
        assert b"Zq9" not in copy.data


def test_each_copy_is_text_then_html_with_the_rendered_contents_and_its_own_links(made):
    for copy in made.copies:
        message = _parse(copy.data)
        assert message.get_content_type() == "multipart/alternative"
        parts = list(message.iter_parts())
        assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
        assert {part.get_content_charset() for part in parts} == {"utf-8"}
        manage, unsubscribe = _tokens(message)
        expected = _filled(made.rendered, manage, unsubscribe)
        assert _newlines(_part(message, "plain")) == _newlines(expected.text)
        assert _newlines(_part(message, "html")) == _newlines(expected.html)
        assert MARKS.manage not in expected.text + expected.html
        assert MARKS.unsubscribe not in expected.text + expected.html
        assert f"{BASE_URL}/unsubscribe/{unsubscribe}" in expected.text


def test_the_subject_is_written_in_ascii_and_decodes_back(made):
    for copy in made.copies:
        [subject] = [line for line in _header_lines(copy.data) if line.startswith(b"Subject:")]
        assert subject.isascii()
        assert _parse(copy.data)["Subject"] == made.rendered.subject


def test_a_subject_with_a_curly_quote_and_an_accent_is_an_encoded_word(app):
    made = _make(app, "alert")
    assert made.rendered.subject == f"CSP news: {TITLE}"
    for copy in made.copies:
        [subject] = [line for line in _header_lines(copy.data) if line.startswith(b"Subject:")]
        assert subject.isascii()
        assert b"=?utf-8?q?Councils=E2=80=99_caf=C3=A9?=" in subject
        assert max(map(len, subject.split(b"\r\n"))) <= 76
        assert _parse(copy.data)["Subject"] == f"CSP news: {TITLE}"


def test_list_unsubscribe_is_one_unfolded_line_with_the_recipients_token(made):
    for copy in made.copies:
        lines = _header_lines(copy.data)
        [header] = [line for line in lines if line.startswith(b"List-Unsubscribe:")]
        assert b"\r\n" not in header
        assert b"=?" not in header
        value = header.removeprefix(b"List-Unsubscribe: ").decode()
        match = LIST_UNSUBSCRIBE.fullmatch(value)
        assert match, value
        assert match["token"] == match["mailto_token"]
        message = _parse(copy.data)
        assert message.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
        assert message.get_all("List-Id") == ["CSP news <news.csp-news.localhost>"]


def test_message_ids_are_unique_per_recipient_and_on_the_from_domain(made):
    ids = [_parse(copy.data)["Message-ID"] for copy in made.copies]
    assert ids == [copy.message_id for copy in made.copies]
    assert len(set(ids)) == len(ids)
    for message_id in ids:
        assert re.fullmatch(rf"<[^<>@\s]+@{re.escape(FROM_DOMAIN)}>", message_id)


def test_the_tokens_of_each_copy_name_its_own_recipient(app, made):
    with app.app_context():
        for copy in made.copies:
            message = _parse(copy.data)
            assert message["To"].addresses[0].addr_spec == copy.recipient
            manage, unsubscribe = _tokens(message)
            subscriber_id = made.subscribers[copy.recipient]
            assert read_subscriber_token(Purpose.MANAGE, manage).subscriber_id == subscriber_id
            unsubscribing = read_subscriber_token(Purpose.UNSUBSCRIBE, unsubscribe)
            assert unsubscribing.subscriber_id == subscriber_id


def test_the_manage_link_of_a_sent_digest_opens_that_readers_own_page(app, smtpd, client):
    _make_run(app, "digest")
    assert send_queued(app, now=NOW).sent == 3
    received = smtpd.drain()
    assert len(received) == 3
    for message in received:
        [recipient] = message.rcpt_tos
        assert message.message["To"].addresses[0].addr_spec == recipient
        page = client.get(link(message.text, "/manage/")).get_data(as_text=True)
        assert f"Subscribed as <strong>{recipient}</strong>" in page
        assert link(message.html, "/manage/") == link(message.text, "/manage/")


def _stdlib_copy(copy: Outgoing, rendered: Rendered, settings: MailSettings) -> EmailMessage:
    """The same copy built with the email package, as the lifecycle emails are."""
    manage, unsubscribe = _tokens(_parse(copy.data))
    message = build_message(
        _filled(rendered, manage, unsubscribe),
        sender=settings.mail_from,
        to=recipient_header(copy.recipient),
        now=NOW,
        message_id=copy.message_id,
        reply_to=settings.reply_to,
        headers=list_headers(
            list_id=settings.list_id,
            unsubscribe_url=f"{settings.base_url}/unsubscribe/{unsubscribe}",
            unsubscribe_mailto=unsubscribe_mailto(settings.unsubscribe_address, unsubscribe),
            feedback_id=str(_parse(copy.data)["Feedback-ID"]),
        ),
    )
    return _parse(serialise(message))


def _headers(message: EmailMessage) -> list[tuple[str, str]]:
    """Header names and decoded values, without those that differ per copy or per layout."""
    found = [(name.lower(), str(value)) for name, value in message.items()]
    return sorted((name, value) for name, value in found if name not in PER_COPY | {"content-type"})


def test_a_copy_equals_the_stdlib_message_built_from_the_same_rendering(app, made):
    with app.app_context():
        settings = MailSettings.from_config(app.config)
    for copy in made.copies:
        filled = _parse(copy.data)
        stdlib = _stdlib_copy(copy, made.rendered, settings)
        assert _headers(filled) == _headers(stdlib)
        assert filled.get_content_type() == stdlib.get_content_type()
        pairs = zip(filled.iter_parts(), stdlib.iter_parts(), strict=True)
        for ours, theirs in pairs:
            assert ours.get_content_type() == theirs.get_content_type()
            assert ours.get_content_charset() == theirs.get_content_charset()
            assert _newlines(ours.get_content()) == _newlines(theirs.get_content())


def test_a_line_separator_in_a_summary_reaches_the_reader_as_it_was_rendered(app):
    # The news form refuses ASCII control characters, not Unicode line separators; the
    # email package keeps them as they are, and so must the copies.
    made = _make(app, "alert", summary="Bids close on 15 January.\u2028Apply online.")
    with app.app_context():
        settings = MailSettings.from_config(app.config)
    for copy in made.copies:
        message = _parse(copy.data)
        expected = _filled(made.rendered, *_tokens(message))
        assert "\u2028" in expected.text
        assert _newlines(_part(_stdlib_copy(copy, made.rendered, settings), "plain")) == (
            _newlines(expected.text)
        )
        assert _newlines(_part(message, "plain")) == _newlines(expected.text)
        assert _newlines(_part(message, "html")) == _newlines(expected.html)


def _follow(subscriber: Subscriber, slug: str) -> int:
    """Let one subscriber follow a topic daily; commit; return their id."""
    topic = db.session.scalars(select(Topic).where(Topic.slug == slug)).one()
    db.session.add(
        Subscription(
            subscriber_id=subscriber.id,
            topic_id=topic.id,
            frequency=Frequency.DAILY,
            created_at=NOW,
        )
    )
    db.session.commit()
    return subscriber.id


def _filler(app) -> Filler:
    with app.app_context():
        return Filler(
            manage_token=subscriber_token_maker(Purpose.MANAGE),
            unsubscribe_token=subscriber_token_maker(Purpose.UNSUBSCRIBE),
            date=format_datetime(NOW),
        )


def _one_alert(app, to: str) -> Outgoing:
    """An alert laid out once and filled in for one address."""
    with app.app_context():
        settings = MailSettings.from_config(app.config)
        item = publish_news(TITLE, at=END)
        rendered = render_alert(
            item, links=MARKS.links(settings.base_url), settings=settings, now=NOW
        )
        proto = run_prototype(rendered, settings, Frequency.IMMEDIATE, MARKS)
        db.session.rollback()
    return _filler(app).fill(proto, Recipient(to, 7, 1))


def test_a_plus_tagged_address_is_written_as_it_is_and_delivered(app, smtpd):
    copy = _one_alert(app, "alex+csp@example.org")
    assert copy.data.startswith(b"To: alex+csp@example.org\r\n")
    assert _parse(copy.data)["To"].addresses[0].addr_spec == "alex+csp@example.org"
    with app.app_context():
        _follow(make_subscriber(email="alex+csp@example.org", now=END), "funding")
    _make_run(app, "digest")
    assert send_queued(app, now=NOW).sent == 4
    received = {m.rcpt_tos[0]: m for m in smtpd.drain()}
    assert received["alex+csp@example.org"].message["To"] == "alex+csp@example.org"


def test_a_local_part_that_needs_quotes_is_quoted_in_the_to_header(app, smtpd):
    # The sign-up form refuses such addresses, so the copy is made for one directly.
    with pytest.raises(InvalidInput):
        normalise_address('"john doe"@example.org')
    copy = _one_alert(app, '"john doe"@example.org')
    [to] = [line for line in _header_lines(copy.data) if line.startswith(b"To:")]
    assert to == b'To: "john doe"@example.org'
    message = _parse(copy.data)
    assert [part.defects for part in message.walk()] == [[], [], []]
    assert message["To"].addresses[0].addr_spec == '"john doe"@example.org'
    stdlib = build_message(
        Rendered("s", "t", "h"),
        sender=f"news@{FROM_DOMAIN}",
        to=recipient_header(copy.recipient),
        now=NOW,
        message_id=copy.message_id,
    )
    assert str(message["To"]) == str(_parse(serialise(stdlib))["To"])
    pool = SenderPool(SmtpSettings.from_config(app.config))
    try:
        results, _ = pool.send([copy], lambda outgoing: outgoing)
    finally:
        pool.shutdown()
    assert [result.error for result in results] == [None]
    assert [m.rcpt_tos for m in smtpd.drain()] == [['"john doe"@example.org']]


@pytest.mark.parametrize(
    "address",
    [
        "a@example.org\r\nBcc: x@example.org",
        "a@example.org\nBcc: x@example.org",
        "a@example.org\rBcc: x@example.org",
    ],
)
def test_a_header_injection_in_an_address_is_refused(app, address):
    with pytest.raises(ValueError, match="CR or LF"):
        _one_alert(app, address)


def test_a_run_member_with_an_injected_address_fails_alone_and_no_bcc_is_written(app, smtpd):
    evil = "eve@example.org\r\nBcc: everyone@example.net"
    with app.app_context():
        eve = _follow(make_subscriber(email=evil, now=END), "funding")
    _make_run(app, "digest")
    stats = send_queued(app, now=NOW)
    assert (stats.sent, stats.failed) == (3, 1)
    with app.app_context():
        failed = db.session.scalar(select(Delivery).where(Delivery.subscriber_id == eve))
        assert failed is not None
        assert failed.status is DeliveryStatus.FAILED
        assert "cannot build message" in (failed.last_error or "")
    received = smtpd.drain()
    assert len(received) == 3
    assert all(m.message["Bcc"] is None for m in received)
    assert all(b"everyone@example.net" not in m.content for m in received)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_bucket_gives_the_burst_at_once_then_one_turn_per_interval():
    bucket = TokenBucket(10, burst=3, clock=FakeClock())
    waits = [bucket.reserve() for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])


def test_a_token_bucket_refills_as_time_passes_up_to_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=3, clock=clock)
    [bucket.reserve() for _ in range(6)]
    clock.now += 0.3
    assert bucket.reserve() == pytest.approx(0.1)
    clock.now += 60
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0, 0, 0, 0.1])


def test_a_token_bucket_bursts_a_tenth_of_a_second_by_default():
    assert TokenBucket(200, clock=FakeClock()).burst == 20
    assert TokenBucket(2, clock=FakeClock()).burst == 1


@pytest.mark.parametrize("rate", [0, -1, -0.5])
def test_a_token_bucket_rate_must_be_positive(rate):
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate)


def _readers_of_a_daily_digest(app, count: int, **options) -> int:
    with app.app_context():
        add_readers(count, follows={"funding": Frequency.DAILY}, **options, now=END)
        publish_news(TITLE, topics=("funding",), at=END - timedelta(hours=2))
        schedule = periods.Schedule.from_config(app.config)
        period = schedule.period_ending(Frequency.DAILY, END)
        run, _ = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=NOW)
        db.session.commit()
        return run.id


def _recipient_counts(smtpd) -> Counter[str]:
    return Counter(r for m in smtpd.drain() for r in m.rcpt_tos)


def test_a_worker_with_a_send_rate_sends_every_message(app, smtpd):
    _readers_of_a_daily_digest(app, 60)
    app.config["SEND_RATE"] = 500
    app.config["WORKER_BATCH_SIZE"] = 25
    with app.app_context():
        capped = worker_from_config(app.config)
        assert capped.pool.bucket is not None
        assert capped.pool.bucket.rate == 500
    assert send_queued(app, now=NOW).sent == 60
    counts = _recipient_counts(smtpd)
    assert len(counts) == 60
    assert set(counts.values()) == {1}


def _plain_messages(count: int) -> list[Outgoing]:
    rendered = Rendered("Hello", "Hello\n", "<p>Hello</p>")
    return [
        Outgoing(
            f"news@{FROM_DOMAIN}",
            f"pool{n}@example.org",
            serialise(
                build_message(
                    rendered,
                    sender=f"news@{FROM_DOMAIN}",
                    to=f"pool{n}@example.org",
                    now=NOW,
                    message_id=f"<pool{n}@{FROM_DOMAIN}>",
                )
            ),
            f"<pool{n}@{FROM_DOMAIN}>",
        )
        for n in range(count)
    ]


def test_a_pool_of_four_sends_each_message_once_over_at_most_four_sessions(app, smtpd):
    pool = SenderPool(SmtpSettings.from_config(app.config), size=4)
    try:
        results, untried = pool.send(_plain_messages(40), lambda outgoing: outgoing)
    finally:
        pool.shutdown()
    assert untried == []
    assert [result.error for result in results] == [None] * 40
    counts = _recipient_counts(smtpd)
    assert len(counts) == 40
    assert set(counts.values()) == {1}
    assert pool.sessions_opened == smtpd.connections
    assert smtpd.connections <= 4


def test_a_pool_that_cannot_connect_stops_and_returns_the_untried(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    ALLOWED_SMTP_PORTS.add(closed_port)
    settings = SmtpSettings(host="127.0.0.1", port=closed_port, timeout=5)
    pool = SenderPool(settings, size=4)
    messages_ = _plain_messages(10)
    try:
        results, untried = pool.send(messages_, lambda outgoing: outgoing)
    finally:
        pool.shutdown()
    assert 1 <= len(results) <= 4
    assert all(isinstance(result.error, ConnectionFailure) for result in results)
    tried = [result.item for result in results]
    assert sorted(m.recipient for m in tried + untried) == sorted(m.recipient for m in messages_)


def test_a_200_recipient_run_over_four_connections_arrives_exactly_once_each(app, smtpd):
    _readers_of_a_daily_digest(app, 200)
    app.config["WORKER_CONCURRENCY"] = 4
    app.config["WORKER_BATCH_SIZE"] = 50
    stats = send_queued(app, now=NOW)
    assert (stats.sent, stats.batches) == (200, 4)
    received = smtpd.drain()
    counts = Counter(r for m in received for r in m.rcpt_tos)
    assert len(counts) == 200
    assert set(counts.values()) == {1}
    assert len({m.message["Message-ID"] for m in received}) == 200
    assert smtpd.connections <= 4 * stats.batches


def test_a_digest_is_rendered_once_per_distinct_content_not_per_reader(app, smtpd, monkeypatch):
    with app.app_context():
        add_readers(100, follows={"funding": Frequency.DAILY}, domain="funding.example", now=END)
        add_readers(100, follows={"events": Frequency.DAILY}, domain="events.example", now=END)
        both = {"funding": Frequency.DAILY, "events": Frequency.DAILY}
        add_readers(100, follows=both, domain="both.example", now=END)
        publish_news(TITLE, topics=("funding",), at=END - timedelta(hours=2))
        publish_news("Partnership conference", topics=("events",), at=END - timedelta(hours=1))
        schedule = periods.Schedule.from_config(app.config)
        period = schedule.period_ending(Frequency.DAILY, END)
        send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=NOW)
        db.session.commit()
    calls: Counter[str] = Counter()
    render_email = messages.render_email

    def counting(name, context, language="en"):
        calls[name] += 1
        return render_email(name, context, language)

    monkeypatch.setattr(messages, "render_email", counting)
    app.config["WORKER_BATCH_SIZE"] = 100
    assert send_queued(app, now=NOW).sent == 300
    assert calls == {"digest": 3}
    received = smtpd.drain()
    assert len({r for m in received for r in m.rcpt_tos}) == 300
    tokenless = {re.sub(r"/(manage|unsubscribe)/[\w.-]+", "", m.html) for m in received}
    assert len(tokenless) == 3
