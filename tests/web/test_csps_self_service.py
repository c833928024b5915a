"""Partnerships keeping their own entries current: staff send a link, the email reaches the
mailbox through the queue (signed, with a return path naming it), the link works once, and a
tampered or old link gets a clear page."""

from __future__ import annotations

import time
from datetime import date
from types import SimpleNamespace

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from mailer.delivery.dkim import Signer
from mailer.domain.directory.listing import csp_by_code
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.models import StaffRole
from mailer.tokens import csp_token
from mailer.verp_tokens import read_verp_token
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import logged_in
from tests.helpers import send_queued

MAILBOX = "community.safety@barnet.example.gov.uk"


@pytest.fixture(scope="module")
def rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def app_settings(app_settings, tmp_path, rsa_pem):
    (tmp_path / "dkim.pem").write_bytes(rsa_pem)
    app_settings["DKIM_KEY_FILE"] = str(tmp_path / "dkim.pem")
    app_settings["DKIM_SELECTOR"] = "csp2026"
    return app_settings


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(now=TODAY, E22000187={"email": MAILBOX, "last_confirmed": date(2025, 1, 6)})


@pytest.fixture
def editor(app, client):
    return logged_in(app, client, EDITOR, StaffRole.EDITOR, now=TODAY)


@pytest.fixture
def emailed(app, editor, directory, smtpd):
    """The email staff had sent to the partnership, as the SMTP server received it."""
    token = csrf_token(editor, "/staff/csps/E22000187")
    assert (
        editor.post("/staff/csps/E22000187/send-link", data={"csrf_token": token}).status_code
        == 302
    )
    assert send_queued(app).sent == 1
    return smtpd.get()


def test_the_link_reaches_the_mailbox_signed_and_with_a_return_path(app, emailed):
    assert emailed.rcpt_tos == [MAILBOX]
    assert emailed.message["Subject"] == (
        "Review the contact details of Barnet Community Safety Partnership"
    )
    assert "List-Unsubscribe" not in emailed.message
    local, domain = emailed.mail_from.split("@")
    assert domain == app.config["BOUNCE_DOMAIN"]
    with app.app_context():
        named = read_verp_token(local.removeprefix("bounces+"))
        delivery = db.session.get(Delivery, named.delivery_id)
        assert (delivery.kind, delivery.status) == (MessageKind.CSP_LINK, DeliveryStatus.SENT)
        assert (delivery.subscriber_id, delivery.csp_id) == (None, csp_by_code("E22000187").id)
        assert delivery.message_id == emailed.message["Message-ID"]
        signer = Signer.from_config(app.config)
    records = {f"{key.dns_name}.".encode(): key.txt_record().encode() for key in signer.keys}
    verifier = dkim.DKIM(emailed.content, minkey=2048)
    assert verifier.verify(dnsfunc=lambda name, timeout=5: records.get(name))
    assert link(emailed.text, "/csps/update/") in emailed.html


def test_the_link_updates_and_confirms_the_details_once(app, client, emailed):
    path = link(emailed.text, "/csps/update/")
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert f'value="{MAILBOX}"' in page.get_data(as_text=True)
    # Opening the link (as a mail scanner does) spends nothing.
    assert client.get(path).status_code == 200
    data = {
        "csrf_token": csrf_token(client, path),
        "email": MAILBOX,
        "phone": "020 8359 2000",
        "web": "https://www.barnet.gov.uk/csp",
    }
    done = client.post(path, data=data)
    assert done.status_code == 200
    assert "Details confirmed" in done.get_data(as_text=True)
    public = client.get("/csps/E22000187").get_data(as_text=True)
    assert "020 8359 2000" in public
    with app.app_context():
        csp = csp_by_code("E22000187")
        assert csp.last_confirmed > date(2025, 1, 6)
        actors = set(db.session.scalars(select(AuditEvent.actor)))
        assert "partnership:E22000187" in actors
        assert any(actor.endswith(EDITOR) for actor in actors)
    again = client.post(path, data={**data, "phone": "999"})
    assert again.status_code == 400
    assert "This link is not valid" in again.get_data(as_text=True)
    assert client.get(path).status_code == 400


def test_bad_details_are_refused_and_the_link_still_works(client, emailed):
    path = link(emailed.text, "/csps/update/")
    data = {"csrf_token": csrf_token(client, path), "email": "nobody", "web": "javascript:x"}
    refused = client.post(path, data=data)
    assert refused.status_code == 400
    assert "Enter a web address" in refused.get_data(as_text=True)
    assert client.get(path).status_code == 200


def test_a_tampered_or_old_link_gets_a_clear_page(app, client, directory, monkeypatch):
    with app.app_context():
        csp = csp_by_code("E22000187")
        good = csp_token(csp.id, csp.links_used)
        then = time.time() - 15 * 86400
        monkeypatch.setattr("itsdangerous.timed.time", SimpleNamespace(time=lambda: then))
        old = csp_token(csp.id, csp.links_used)
        monkeypatch.undo()
    tampered = client.get(f"/csps/update/{good[:-2]}xx")
    assert tampered.status_code == 400
    assert "This link is not valid" in tampered.get_data(as_text=True)
    expired = client.get(f"/csps/update/{old}")
    assert expired.status_code == 400
    assert "This link has expired" in expired.get_data(as_text=True)
    assert client.get("/csps/update/%00").status_code in (400, 404)


def test_a_link_cannot_be_sent_without_a_mailbox(app, editor, directory):
    token = csrf_token(editor, "/staff/csps/E22000188")
    response = editor.post("/staff/csps/E22000188/send-link", data={"csrf_token": token})
    assert response.status_code == 409
    assert "Set its role mailbox first" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Delivery)).all() == []
