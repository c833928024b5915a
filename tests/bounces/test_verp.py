"""VERP return paths: short, lowercase, signed, readable whatever the case; each names one
delivery by its id and the key drawn for it."""

from __future__ import annotations

import re

import pytest

from mailer.delivery.verp import InboxAddresses
from mailer.delivery.verp import Mailbox
from mailer.delivery.verp import read_verp_address
from mailer.delivery.verp import verp_address
from mailer.errors import InvalidToken
from mailer.verp_tokens import ReturnPath
from mailer.verp_tokens import read_verp_token
from mailer.verp_tokens import verp_token

DOMAIN = "bounces.csp-news.localhost"
KEY = "9b1e0c7a44d2f0e5a3c6"


@pytest.mark.parametrize("delivery_id", [1, 42, 10**9, 36**13 - 1])
def test_a_token_names_its_delivery_in_lowercase_letters_and_digits(app, delivery_id):
    with app.app_context():
        token = verp_token(delivery_id, KEY)
        address = verp_address(delivery_id, KEY, DOMAIN)
        assert re.fullmatch(r"[a-z0-9]+-[0-9a-f]{20}-[a-z0-9]{13}", token)
        assert read_verp_token(token) == ReturnPath(delivery_id, KEY)
        assert read_verp_address(address, domain=DOMAIN) == ReturnPath(delivery_id, KEY)
    # RFC 5321 4.5.3.1.1: a local part is at most 64 octets.
    assert len(address.partition("@")[0]) <= 64


def test_a_return_path_of_a_delivery_made_before_keys_names_the_id_alone(app):
    with app.app_context():
        # What the return path of delivery 1234 was before keys, under the testing key:
        # such paths are out in the world and must keep reading.
        old = "ya-3n208xxogkp3u"
        assert verp_token(1234, None) == old
        assert read_verp_token(old.upper()) == ReturnPath(1234, None)


def test_the_same_id_with_another_key_is_another_return_path(app):
    with app.app_context():
        other = "0" * 20
        assert verp_token(1234, KEY) != verp_token(1234, other)
        ident, _, mac = verp_token(1234, KEY).split("-")
        with pytest.raises(InvalidToken):
            read_verp_token(f"{ident}-{other}-{mac}")
        with pytest.raises(InvalidToken):
            read_verp_token(f"{ident}-{mac}")


def test_an_address_is_read_whatever_its_case_and_brackets(app):
    with app.app_context():
        address = verp_address(1234, KEY, DOMAIN)
        assert read_verp_address(f"<{address.upper()}>", domain=DOMAIN) == ReturnPath(1234, KEY)
        assert read_verp_address(address, domain=DOMAIN.upper()) == ReturnPath(1234, KEY)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token.replace(token[0], "z" if token[0] != "z" else "y", 1),
        lambda token: token[:-1] + ("a" if token[-1] != "a" else "b"),
        lambda token: token.split("-")[0],
        lambda token: token.replace(KEY, KEY[:-1]),
        lambda token: "0" + token,
        lambda token: token + "0",
        lambda token: "",
        lambda token: "é" + token,
    ],
    ids=[
        "other id",
        "altered signature",
        "no signature",
        "short key",
        "leading zero",
        "longer",
        "empty",
        "non-ascii",
    ],
)
def test_a_tampered_token_is_refused(app, tamper):
    with app.app_context():
        token = verp_token(1234, KEY)
        with pytest.raises(InvalidToken):
            read_verp_token(tamper(token))


def test_a_token_from_another_key_is_refused_and_an_old_key_still_reads(app):
    with app.app_context():
        old = verp_token(77, KEY)
        app.config["SECRET_KEY"] = "a-new-secret-key-for-testing-rotation-0123"
        with pytest.raises(InvalidToken):
            read_verp_token(old)
        app.config["SECRET_KEY_FALLBACKS"] = ["testing-secret-not-for-production"]
        assert read_verp_token(old) == ReturnPath(77, KEY)
        assert verp_token(77, KEY) != old


def test_an_address_at_another_domain_or_without_the_prefix_is_not_ours(app):
    with app.app_context():
        token = verp_token(5, KEY)
        for address in (f"bounces+{token}@example.org", f"news+{token}@{DOMAIN}"):
            with pytest.raises(InvalidToken):
                read_verp_address(address, domain=DOMAIN)


def test_there_are_no_tokens_for_ids_that_are_not_deliveries(app):
    with app.app_context(), pytest.raises(ValueError, match="no VERP token"):
        verp_token(0, KEY)


def test_the_inbox_knows_which_mailbox_an_address_is(app):
    with app.app_context():
        addresses = InboxAddresses.from_config(app.config)
        token = verp_token(9, KEY)
        assert addresses.mailbox(f"bounces+{token}@{DOMAIN}") is Mailbox.BOUNCES
        assert addresses.mailbox(f"BOUNCES+{token.upper()}@{DOMAIN.upper()}") is Mailbox.BOUNCES
        assert addresses.mailbox("Unsubscribe@CSP-news.localhost") is Mailbox.UNSUBSCRIBE
        assert addresses.mailbox(f"postmaster@{DOMAIN}") is Mailbox.POSTMASTER
        assert addresses.mailbox(f"bounces+{token[:-1]}x@{DOMAIN}") is Mailbox.FORGED
        assert addresses.mailbox(f"someone@{DOMAIN}") is Mailbox.FOREIGN
        assert addresses.mailbox("someone@example.org") is Mailbox.FOREIGN
        assert addresses.mailbox(f"bounces+{token}@example.org") is Mailbox.FOREIGN
