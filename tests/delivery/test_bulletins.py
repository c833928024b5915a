"""Sending a bulletin: who gets it (the count staff saw), once each, with the list headers,
a DKIM signature, working links, and rendered once for every reader."""

from __future__ import annotations

import re
from collections import Counter

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dkim.util import parse_tag_value
from sqlalchemy import select

from mailer.delivery.direct import NotSent
from mailer.delivery.direct import send_test
from mailer.delivery.dkim import Signer
from mailer.domain import bulletins
from mailer.domain import suppressions
from mailer.extensions import db
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import SuppressionReason
from tests import TODAY
from tests.digests.test_digest_email import _check_golden
from tests.digests.test_digest_email import _golden_view
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import link
from tests.helpers import send_queued

ANN = "staff:1 ann@example.gov.uk"


@pytest.fixture
def app_settings(app_settings, tmp_path):
    """The app signs with an RSA key, as in production."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "rsa.pem").write_bytes(pem)
    app_settings["DKIM_KEY_FILE"] = str(tmp_path / "rsa.pem")
    app_settings["DKIM_SELECTOR"] = "2026q4"
    return app_settings


def _verifies(app, data: bytes) -> bool:
    signer = Signer.from_config(app.config)
    records = {f"{key.dns_name}.".encode(): key.txt_record().encode() for key in signer.keys}
    return bool(dkim.DKIM(data).verify(dnsfunc=lambda name, timeout=5: records.get(name)))


def _bulletin(*, topics=("funding", "events"), everyone=False, items=(), **fields):
    content = bulletins.validate(
        subject=fields.get("subject", "Winter bulletin: what partners need to know"),
        body=fields.get("body", "Dear partners,\n\nThe **winter round** is open."),
        everyone=everyone,
        topic_slugs=[] if everyone else list(topics),
        item_ids=[item.id for item in items],
        public=True,
    )
    return bulletins.create(content, actor=ANN, now=TODAY)


def _mixed_readers():
    """Readers of the bulletin's topics at every frequency, one of both its topics, readers of
    another topic, and people who left or were suppressed."""
    add_readers(2, follows={"funding": Frequency.IMMEDIATE}, now=TODAY, prefix="a")
    add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="b")
    add_readers(1, follows={"events": Frequency.WEEKLY}, now=TODAY, prefix="c")
    add_readers(
        1, follows={"funding": Frequency.WEEKLY, "events": Frequency.DAILY}, now=TODAY, prefix="d"
    )
    add_readers(2, follows={"consultations": Frequency.DAILY}, now=TODAY, prefix="e")
    add_readers(
        1,
        follows={"funding": Frequency.DAILY},
        status=SubscriberStatus.UNSUBSCRIBED,
        now=TODAY,
        prefix="f",
    )
    [gone] = add_readers(1, follows={"events": Frequency.IMMEDIATE}, now=TODAY, prefix="g")
    make_subscriber(email="pending@example.org", status=SubscriberStatus.PENDING, now=TODAY)
    return gone


def test_the_count_staff_see_is_the_number_of_emails_sent_each_reader_once(app, smtpd):
    with app.app_context():
        gone = _mixed_readers()
        address = db.session.get_one(Subscriber, gone).email
        suppressions.suppress(address, SuppressionReason.COMPLAINT, actor="test", now=TODAY)
        bulletin = _bulletin()
        shown = bulletins.audience_count(bulletin)
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    send_queued(app, now=TODAY)
    received = smtpd.drain()
    recipients = Counter(message.rcpt_tos[0] for message in received)
    assert shown == len(received) == 6
    assert set(recipients.values()) == {1}
    assert not [r for r in recipients if r.startswith(("e", "f", "g", "pending"))]
    with app.app_context():
        kinds = set(db.session.scalars(select(Delivery.kind)))
        statuses = set(db.session.scalars(select(Delivery.status)))
    assert (kinds, statuses) == ({MessageKind.BULLETIN}, {DeliveryStatus.SENT})


def test_everyone_means_every_active_subscriber(app, smtpd):
    with app.app_context():
        _mixed_readers()
        bulletin = _bulletin(everyone=True)
        shown = bulletins.audience_count(bulletin)
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    send_queued(app, now=TODAY)
    received = smtpd.drain()
    assert shown == len(received) == 9
    assert "because you subscribe to Community Safety Partnerships news." in received[0].text


def test_the_email_has_the_list_headers_a_signature_and_working_links(app, client, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.WEEKLY}, now=TODAY)
        item = publish_news("Safer Streets Fund round 6", at=TODAY, summary="Bids close soon.")
        bulletin = _bulletin(items=[item])
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    send_queued(app, now=TODAY)
    [received] = smtpd.drain()
    message = received.message
    assert message["Subject"] == "Winter bulletin: what partners need to know"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<https?://\S+/unsubscribe/\S+>, <mailto:\S+>", message["List-Unsubscribe"]
    )
    assert message["List-Id"]
    assert "bulletin" in message["Feedback-ID"]
    tags = parse_tag_value(re.sub(rb"\s+", b"", message["DKIM-Signature"].encode()))
    assert b"list-unsubscribe-post" in tags[b"h"].lower().split(b":")
    assert _verifies(app, received.content)
    text, html = received.text, received.html
    assert "The **winter round** is open." in text
    assert "<strong>winter round</strong>" in html
    assert "Safer Streets Fund round 6" in text
    assert "Bids close soon." in html
    assert "/news/safer-streets-fund-round-6" in link(text, "/news/")
    assert "because you subscribe to news about one or more of: Funding, Events." in text
    manage = client.get(link(text, "/manage/"))
    assert manage.status_code == 200
    assert "funding" in manage.get_data(as_text=True).lower()
    one_click = message["List-Unsubscribe"].split(">")[0].split("/unsubscribe/")[1]
    assert (
        client.post(f"/unsubscribe/{one_click}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )


def test_a_bulletin_with_no_items_goes_and_one_prototype_serves_every_reader(app, smtpd):
    with app.app_context():
        add_readers(3, follows={"events": Frequency.DAILY}, now=TODAY)
        bulletin = _bulletin(topics=("events",))
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    stats = send_queued(app, now=TODAY)
    received = smtpd.drain()
    assert len(received) == 3, stats
    bodies = {re.sub(r"/(manage|unsubscribe)/\S+", "", m.text) for m in received}
    assert len(bodies) == 1
    assert "In this bulletin" not in received[0].text
    assert "because you subscribe to news about Events." in received[0].text


def test_a_test_copy_goes_to_the_staff_address_only_and_is_no_delivery(app, smtpd):
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY)
        bulletin = _bulletin()
        db.session.commit()
        send_test(bulletin, [], to="ann@example.gov.uk", config=app.config, now=TODAY)
        assert db.session.scalar(select(Delivery.id)) is None
    [received] = smtpd.drain()
    assert received.rcpt_tos == ["ann@example.gov.uk"]
    assert received.message["Subject"] == "[Test] Winter bulletin: what partners need to know"
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert _verifies(app, received.content)


def test_a_test_the_relay_refuses_says_so(app, smtpd):
    smtpd.script("RCPT", "550 5.1.1 no such user")
    with app.app_context():
        bulletin = _bulletin()
        with pytest.raises(NotSent, match="550"):
            send_test(bulletin, [], to="nobody@example.gov.uk", config=app.config, now=TODAY)


def test_the_bulletin_email_matches_its_golden_file(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.WEEKLY}, now=TODAY)
        first = publish_news("Safer Streets Fund round 6", at=TODAY, summary="Bids close soon.")
        second = publish_news("CSP conference", at=TODAY, summary="Book a place.")
        bulletin = _bulletin(
            items=[second, first],
            body="Dear partners,\n\n## Funding\n\nThe **winter round** is open: [apply](https://www.gov.uk/).",
        )
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    send_queued(app, now=TODAY)
    [received] = smtpd.drain()
    _check_golden(_golden_view(received.content), "bulletin.txt")
