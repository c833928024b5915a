"""Message construction: headers, encodings, line limits, golden renderings."""

from __future__ import annotations

import os
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.delivery.compose import Rendered
from mailer.delivery.compose import build_message
from mailer.delivery.compose import list_headers
from mailer.delivery.compose import new_message_id
from mailer.delivery.compose import render_email
from mailer.delivery.compose import serialise
from mailer.delivery.contact_replies import CONTACT_KINDS
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_delivery
from mailer.delivery.partnerships import PARTNERSHIP_KINDS
from mailer.delivery.practice_emails import STILL_APPLIES
from mailer.domain import bulletins
from mailer.domain import contact
from mailer.domain import subscription_changes as changes
from mailer.domain.directory.listing import csp_by_code
from mailer.domain.directory.self_service import remind_due
from mailer.domain.directory.self_service import send_link
from mailer.domain.practice_drafts import queue_email
from mailer.domain.practice_enquiries import send_enquiry
from mailer.domain.subscriptions import Choice
from mailer.domain.subscriptions import Origin
from mailer.domain.subscriptions import parse_topics
from mailer.domain.topic_retirement import retire_topic
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Topic
from tests.digests.conftest import make_digest
from tests.digests.conftest import make_due
from tests.email_html import parse
from tests.factories import add_contact_message
from tests.factories import add_readers
from tests.factories import load_directory
from tests.factories import publish_news
from tests.factories import queue_emails
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.helpers import subscribe
from tests.practice_factories import make_case_study

GOLDEN = Path(__file__).parent.parent / "golden"
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
LIST_RE = re.compile(r"^<https://[^<>\s]+>(,\s*<mailto:[^<>\s]+>)?$")


def _lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n")


def _long_message(url_length: int = 200, html_line: int = 10_000) -> bytes:
    url = "https://news.example.gov.uk/unsubscribe/" + "x" * url_length
    rendered = Rendered(
        subject="Ünïcode subject for the digest of 25 November 2026 " * 3,
        text="A line of text\n" * 3,
        html="<p>" + "minified " * (html_line // 9) + "</p>",
    )
    message = build_message(
        rendered,
        sender="CSP news <news@example.gov.uk>",
        to="person@example.com",
        now=NOW,
        message_id=new_message_id("news@example.gov.uk"),
        headers=list_headers(
            list_id="CSP news <news.example.gov.uk>",
            unsubscribe_url=url,
            unsubscribe_mailto="mailto:unsubscribe@example.gov.uk?subject=unsubscribe%20abc",
            feedback_id="welcome:lifecycle:news:cspnews",
        ),
    )
    return serialise(message)


def test_a_long_list_unsubscribe_is_never_folded_or_encoded():
    raw = _long_message(url_length=200)
    header = next(line for line in _lines(raw) if line.startswith(b"List-Unsubscribe:"))
    assert b"=?" not in header
    parsed = message_from_bytes(raw, policy=default_policy)
    value = str(parsed["List-Unsubscribe"])
    assert value.startswith("<https://news.example.gov.uk/unsubscribe/xxxx")
    assert LIST_RE.match(value)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_every_line_is_within_the_limits_and_encoded_lines_within_76():
    raw = _long_message(url_length=200, html_line=10_000)
    lines = _lines(raw)
    assert max(len(line) for line in lines) <= 998
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in _lines(body)) <= 76


def test_a_list_header_too_long_for_one_line_folds_only_after_a_comma():
    raw = _long_message(url_length=900)
    header_block = raw.split(b"\r\n\r\n", 1)[0].decode()
    unsubscribe = header_block.split("List-Unsubscribe: ", 1)[1].split("\r\nList-Unsubscribe-")[0]
    assert unsubscribe.count("\r\n ") == 1
    assert ",\r\n <mailto:" in unsubscribe
    assert max(len(line) for line in _lines(raw)) <= 998


def test_a_url_too_long_for_any_line_is_refused():
    with pytest.raises(ValueError, match="longer than 998"):
        _long_message(url_length=1000)


def test_non_ascii_subjects_become_short_encoded_words():
    raw = _long_message()
    header_block = raw.split(b"\r\n\r\n", 1)[0].decode()
    words = re.findall(r"=\?[^?]+\?[qQbB]\?[^?]*\?=", header_block)
    assert words
    assert max(len(word) for word in words) <= 75
    assert str(message_from_bytes(raw, policy=default_policy)["Subject"]).startswith("Ünïcode")


def test_line_breaks_in_a_list_header_are_refused():
    with pytest.raises(ValueError, match="line"):
        build_message(
            Rendered("s", "t", "<p>h</p>"),
            sender="news@example.gov.uk",
            to="p@example.com",
            now=NOW,
            message_id="<1@example.gov.uk>",
            headers={"List-Id": "x\r\nBcc: evil@example.net"},
        )


def test_css_is_inlined_and_media_queries_are_kept(app):
    with app.app_context():
        rendered = render_email(
            "welcome",
            {
                "topics": ["Funding"],
                "frequency": "once a day",
                "base_url": "https://x.test",
                "manage_url": "https://x.test/m",
                "unsubscribe_url": "https://x.test/u",
                "postal_address": "2 Marsham Street",
            },
        )
    assert 'class="banner" style="' in rendered.html
    assert "@media" in rendered.html
    assert not re.search(r"</?(p|a|div|span|table|td|br|img)\b", rendered.text)


def test_messages_are_text_then_html_with_one_of_each_single_header(app, client, smtpd):
    for address in ("one@example.com", "two@example.com"):
        subscribe(client, address)
    send_queued(app)
    ids = set()
    for received in smtpd.drain():
        message = received.message
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        for name in ("Date", "From", "To", "Subject", "Message-ID", "MIME-Version"):
            assert len(message.get_all(name)) == 1, name
        assert message["Message-ID"].endswith("@csp-news.localhost>")
        ids.add(message["Message-ID"])
    assert len(ids) == 2


def _ask_for_a_change(kind: MessageKind) -> None:
    """An active subscriber asks for more topics, or a new address, as the pages do."""
    [reader] = add_readers(1, follows={"funding": Frequency.DAILY}, now=NOW)
    subscriber = db.session.get_one(Subscriber, reader)
    if kind is MessageKind.ADD_TOPICS:
        choice = Choice(parse_topics(["events"]), Frequency.WEEKLY)
        changes.ask_to_add_topics(subscriber, choice, origin=Origin(), now=NOW)
    else:
        changes.ask_to_change_email(subscriber, "new@example.org", origin=Origin(), now=NOW)
    db.session.commit()


def _send_bulletin() -> None:
    """Write a bulletin to the readers of funding and send it."""
    content = bulletins.validate(
        subject="Winter bulletin",
        body="Dear partners, the winter funding round is open until 15 January.",
        everyone=False,
        topic_slugs=["funding"],
        item_ids=[],
        public=True,
    )
    bulletin = bulletins.create(content, actor="test", now=NOW)
    bulletins.send_now(bulletin, actor="test", now=NOW, approval=False)
    db.session.commit()


def _queue_to_no_subscriber(kind: MessageKind) -> None:
    """An email to a partnership's mailbox, or a reply to someone who used the contact form."""
    if kind is MessageKind.CONTACT_REPLY:
        message = add_contact_message(now=NOW)
        contact.reply(message, "Thank you: it is corrected.", actor="test", now=NOW)
    elif kind is MessageKind.CONTACT_NOTICE:
        add_contact_message(now=NOW, tell_unit=True)
    else:
        load_directory(now=NOW, E22000187={"email": "csp@barnet.example.gov.uk"})
        if kind is MessageKind.CSP_LINK:
            send_link(csp_by_code("E22000187"), actor="test", now=NOW)
        else:
            remind_due(now=NOW)
    db.session.commit()


def _queue_lifecycle_email(kind: MessageKind) -> None:
    """Queue one email of `kind` that no send run and no partnership makes."""
    if kind is MessageKind.CASE_STUDY_ENQUIRY:
        case_study = make_case_study("Synthetic example: bins", now=NOW)
        send_enquiry(case_study, name="Sam", email="sam@example.org", message="Hi", now=NOW)
        db.session.commit()
        return
    queue_emails(1, kind=kind, now=NOW)
    if kind in (MessageKind.CONFIRM, MessageKind.INVITE):
        db.session.scalars(select(Subscriber)).one().status = SubscriberStatus.PENDING
        db.session.commit()


def _queue_to_submitter(kind: MessageKind) -> None:
    """A case study in the state the email is about, and that email to its submitter."""
    case_study = CaseStudy(
        state=min(STILL_APPLIES[kind]),
        submitter_email="submitter@example.com",
        title="Safer streets",
        slug="safer-streets",
        answers={},
        created_at=NOW,
        updated_at=NOW,
    )
    db.session.add(case_study)
    db.session.flush()
    queue_email(case_study, kind, now=NOW)
    db.session.commit()


def _queue_one(app, kind: MessageKind) -> None:
    """Queue one email of `kind` to someone it applies to."""
    with app.app_context():
        if kind in (MessageKind.ALERT, MessageKind.DIGEST):
            frequency = Frequency.IMMEDIATE if kind is MessageKind.ALERT else Frequency.DAILY
            add_readers(1, follows={"funding": frequency}, now=END - timedelta(days=1))
            publish_news("Safer Streets Fund round 6", at=END - timedelta(minutes=1))
            db.session.commit()
        elif kind in (MessageKind.ADD_TOPICS, MessageKind.EMAIL_CHANGE):
            _ask_for_a_change(kind)
        elif kind is MessageKind.TOPIC_ENDED:
            add_readers(1, follows={"events": Frequency.DAILY}, now=NOW)
            events = db.session.scalars(select(Topic).where(Topic.slug == "events")).one()
            retire_topic(events, move_to=None, tell=True, actor="test", now=NOW)
            db.session.commit()
        elif kind is MessageKind.BULLETIN:
            add_readers(1, follows={"funding": Frequency.WEEKLY}, now=END - timedelta(days=1))
            _send_bulletin()
        elif kind in STILL_APPLIES:
            _queue_to_submitter(kind)
        elif kind in PARTNERSHIP_KINDS or kind in CONTACT_KINDS:
            app.config["CONTACT_UNIT_EMAIL"] = "unit@example.gov.uk"
            _queue_to_no_subscriber(kind)
        else:
            _queue_lifecycle_email(kind)
    if kind is MessageKind.ALERT:
        make_due(app, END, frequencies=(Frequency.IMMEDIATE,))
    elif kind is MessageKind.DIGEST:
        make_digest(app, now=END)


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_email_says_once_that_it_was_sent_automatically(app, smtpd, kind):
    _queue_one(app, kind)
    assert send_queued(app, now=NOW).sent == 1
    message = smtpd.get().message
    # RFC 3834 section 5: so that vacation responders and the like do not answer it.
    assert message.get_all("Auto-Submitted") == ["auto-generated"]


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_email_opens_with_a_hidden_preheader(app, smtpd, kind):
    _queue_one(app, kind)
    assert send_queued(app, now=NOW).sent == 1
    received = smtpd.get()
    document = parse(received.html)
    assert document.first_text is not None
    element, text = document.first_text
    assert "preheader" in element.classes
    assert element.style["display"] == "none"
    # What the inbox shows beside the subject, rather than the banner's words.
    assert len(text) > 20
    assert "Community Safety Partnerships news" not in text


def test_list_mail_has_every_list_header_once_and_transactional_mail_none(app, client, smtpd):
    subscribe(client, "list@example.com")
    send_queued(app)
    confirmation = smtpd.get().message
    for name in ("List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID"):
        assert name not in confirmation
    path = link(confirmation.get_body(("plain",)).get_content(), "/confirm/")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    send_queued(app)
    welcome = smtpd.get()
    message = welcome.message
    for name in ("List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted"):
        assert len(message.get_all(name)) == 1, name
    unsubscribe = str(message["List-Unsubscribe"])
    assert re.match(
        r"^<http://127\.0\.0\.1:5000/unsubscribe/[^<>\s]+>, <mailto:[^<>\s]+>$", unsubscribe
    )
    https_part = unsubscribe.split(">")[0][1:]
    assert https_part in welcome.text
    assert message["List-Id"] == "CSP news <news.csp-news.localhost>"


def _normalise(text: str) -> str:
    """Replace the tokens, which change with every run, by TOKEN."""
    text = re.sub(r"/(confirm|manage|unsubscribe)/[\w.-]+", r"/\1/TOKEN", text)
    return re.sub(r"subject=unsubscribe%20[\w.-]+", "subject=unsubscribe%20TOKEN", text)


def _golden_view(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=default_policy)
    headers = [
        f"{name}: {_normalise(str(message[name]))}"
        for name in (
            "From",
            "To",
            "Subject",
            "List-Id",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "Auto-Submitted",
        )
        if name in message
    ]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return "\n".join(headers) + "\n\n" + _normalise(text)


@pytest.mark.parametrize("kind", ["confirm", "welcome", "manage"])
def test_emails_match_their_golden_files(app, client, smtpd, kind):
    subscribe(client, "golden@example.com", topics=("funding", "consultations"), frequency="weekly")
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        if kind != "confirm":
            delivery.subscriber.status = SubscriberStatus.ACTIVE
            delivery.kind = MessageKind(kind)
        outgoing = compose_delivery(delivery, MailSettings.from_config(app.config), now=NOW)
        db.session.rollback()
    view = _golden_view(outgoing.data)
    path = GOLDEN / f"{kind}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(view)
    assert view == path.read_text()


def test_the_topic_ended_email_matches_its_golden_file(app):
    with app.app_context():
        [reader] = add_readers(
            1, follows={"events": Frequency.WEEKLY, "consultations": Frequency.WEEKLY}, now=NOW
        )
        topics = {t.slug: t for t in db.session.scalars(select(Topic))}
        retire_topic(topics["events"], move_to=topics["funding"], tell=True, actor="test", now=NOW)
        delivery = db.session.scalars(
            select(Delivery).where(Delivery.subscriber_id == reader)
        ).one()
        outgoing = compose_delivery(delivery, MailSettings.from_config(app.config), now=NOW)
        db.session.rollback()
    view = _golden_view(outgoing.data).replace("reader0@example.org", "golden@example.com")
    path = GOLDEN / "topic_ended.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(view)
    assert view == path.read_text()


@pytest.mark.parametrize("kind", ["confirm", "welcome", "manage"])
def test_welsh_emails_match_their_golden_files(app, client, smtpd, kind):
    subscribe(client, "golden@example.com", topics=("funding", "consultations"), frequency="weekly")
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        delivery.subscriber.language = "cy"
        if kind != "confirm":
            delivery.subscriber.status = SubscriberStatus.ACTIVE
            delivery.kind = MessageKind(kind)
        outgoing = compose_delivery(delivery, MailSettings.from_config(app.config), now=NOW)
        db.session.rollback()
    view = _golden_view(outgoing.data)
    path = GOLDEN / "cy" / f"{kind}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(view)
    assert view == path.read_text()
    assert message_from_bytes(outgoing.data, policy=default_policy)["Content-Language"] == "cy"
