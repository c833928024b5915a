"""DKIM: messages the app builds are signed so that dkimpy verifies every signature, any
change to what was signed breaks them, and bad keys stop the signer from being built."""

from __future__ import annotations

import email
import os
import re
import stat
import subprocess
import sys
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from dkim.util import parse_tag_value

from mailer import clock
from mailer.cli.admin import dkim_keygen
from mailer.delivery import queue
from mailer.delivery.compose import Outgoing
from mailer.delivery.dkim import SIGNED_HEADERS
from mailer.delivery.dkim import DkimKey
from mailer.delivery.dkim import DkimKeyError
from mailer.delivery.dkim import Signer
from mailer.delivery.dkim import signed_headers
from mailer.delivery.worker import worker_from_config
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import MessageKind
from tests.factories import add_readers
from tests.factories import publish_news
from tests.factories import queue_emails
from tests.helpers import send_queued

# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
NOW = END + timedelta(minutes=1)
FROM_DOMAIN = "csp-news.localhost"
MAIL_FROM = f"CSP news <news@{FROM_DOMAIN}>"
RSA_SELECTOR = "2026q4"
ED25519_SELECTOR = "2026q4-ed"
MAILER = str(Path(sys.executable).parent / "mailer")
TAMPERED = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
    "Auto-Submitted",
    "Reply-To",
    "MIME-Version",
    "Content-Type",
)


def _pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture
def settings(tmp_path, rsa_key, ed25519_key) -> dict[str, str]:
    """DKIM settings naming an RSA and an Ed25519 key written to files."""
    (tmp_path / "rsa.pem").write_bytes(_pem(rsa_key))
    (tmp_path / "ed25519.pem").write_bytes(_pem(ed25519_key))
    return {
        "MAIL_FROM": MAIL_FROM,
        "DKIM_KEY_FILE": str(tmp_path / "rsa.pem"),
        "DKIM_SELECTOR": RSA_SELECTOR,
        "DKIM_ED25519_KEY_FILE": str(tmp_path / "ed25519.pem"),
        "DKIM_ED25519_SELECTOR": ED25519_SELECTOR,
    }


@pytest.fixture
def signer(settings) -> Signer:
    made = Signer.from_config(settings)
    assert made is not None
    return made


@pytest.fixture
def app_settings(app_settings):
    app_settings["MAIL_REPLY_TO"] = f"CSP news team <team@{FROM_DOMAIN}>"
    return app_settings


def _records(signer: Signer) -> dict[bytes, bytes]:
    """The DNS TXT records of the signer's public keys, by name as dkimpy asks for them."""
    return {f"{key.dns_name}.".encode(): key.txt_record().encode() for key in signer.keys}


def _verifies(data: bytes, records: dict[bytes, bytes], idx: int) -> bool:
    """Whether dkimpy verifies signature `idx` (0 is the topmost) against `records` alone."""
    verifier = dkim.DKIM(data, minkey=2048)
    try:
        valid = verifier.verify(idx=idx, dnsfunc=lambda name, timeout=5: records.get(name))
    except dkim.ValidationError:
        # dkimpy raises on a body hash mismatch rather than returning False.
        return False
    if valid and verifier.signature_fields[b"a"] == b"rsa-sha256":
        assert verifier.keysize >= 2048
    return bool(valid)


def _verdicts(data: bytes, records: dict[bytes, bytes]) -> list[bool]:
    """One verdict per DKIM-Signature field, topmost first."""
    return [_verifies(data, records, idx) for idx in range(len(_signature_tags(data)))]


def _signature_tags(data: bytes) -> list[dict[bytes, bytes]]:
    """The tags of each DKIM-Signature field, topmost first."""
    message = email.message_from_bytes(data, policy=default_policy)
    fields = message.get_all("DKIM-Signature") or []
    return [parse_tag_value(str(field).encode()) for field in fields]


def _h(tags: dict[bytes, bytes]) -> list[bytes]:
    """The header names of a signature's h= tag, in order."""
    return re.sub(rb"\s+", b"", tags[b"h"]).split(b":")


def _head_and_body(data: bytes) -> tuple[bytes, bytes]:
    head, body = data.split(b"\r\n\r\n", 1)
    return head + b"\r\n", b"\r\n" + body


def _change_header(data: bytes, name: str) -> bytes:
    """`data` with one more character at the end of the first line of header `name`."""
    head, body = _head_and_body(data)
    changed, count = re.subn(rf"(?mi)^({re.escape(name)}:[^\r]*)".encode(), rb"\1x", head, count=1)
    assert count == 1, name
    return changed + body


def _add_header(data: bytes, line: bytes, *, top: bool) -> bytes:
    """`data` with a header line added above every other field, or below them all."""
    if top:
        return line + b"\r\n" + data
    head, body = _head_and_body(data)
    return head + line + b"\r\n" + body


def _prepared(app, now: datetime) -> list[Outgoing]:
    """Claim everything due and let a worker compose each copy, without sending."""
    with app.app_context():
        worker = worker_from_config(app.config, now=lambda: now)
        ids = queue.claim_batch(
            owner=worker.owner, limit=1000, lease=worker.settings.lease, now=now
        )
        db.session.commit()
        prepared = worker.prepare(ids)
        db.session.commit()
        worker.pool.shutdown()
        return [item.outgoing for item in prepared]


def _digest_copies(app) -> list[Outgoing]:
    """The copies of a real daily digest for two readers, as the worker fills them in."""
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.DAILY, "events": Frequency.DAILY}, now=END)
        publish_news(
            "Councils’ café patrols: Safer Streets Fund round 6 opens",
            topics=("funding", "events"),
            at=END - timedelta(hours=2),
            summary="Bids close on 15 January. " * 20,
        )
        publish_news("Partnership conference", topics=("events",), at=END - timedelta(hours=1))
        period = periods.Schedule.from_config(app.config).period_ending(Frequency.DAILY, END)
        send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=NOW)
        db.session.commit()
    copies = _prepared(app, NOW)
    assert len(copies) == 2
    return copies


def _lifecycle_copy(app, kind: MessageKind) -> Outgoing:
    """One lifecycle email of `kind`, composed by the worker with the email package."""
    with app.app_context():
        queue_emails(1, kind=kind, now=NOW)
    [copy] = _prepared(app, NOW)
    return copy


@pytest.fixture
def digest(app) -> bytes:
    """The bytes of one digest copy."""
    return _digest_copies(app)[0].data


# What is signed, and that dkimpy verifies it.


def test_every_digest_copy_carries_an_rsa_and_an_ed25519_signature_that_dkimpy_verifies(
    app, signer
):
    records = _records(signer)
    for copy in _digest_copies(app):
        signed = signer.sign(copy.data)
        assert signed.endswith(copy.data)
        # dkim.verify checks the topmost signature only: the RSA one.
        assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: records.get(name))
        assert _verdicts(signed, records) == [True, True]
        assert [tags[b"a"] for tags in _signature_tags(signed)] == [
            b"rsa-sha256",
            b"ed25519-sha256",
        ]


def test_the_signatures_are_relaxed_timestamped_on_one_domain_with_a_selector_each(digest, signer):
    # The signing time is the clock's, so this is a test of reading it.
    before = int(clock.now().timestamp())
    rsa_tags, ed25519_tags = _signature_tags(signer.sign(digest))
    for tags, selector in ((rsa_tags, RSA_SELECTOR), (ed25519_tags, ED25519_SELECTOR)):
        assert tags[b"c"] == b"relaxed/relaxed"
        assert tags[b"d"] == FROM_DOMAIN.encode()
        assert tags[b"s"] == selector.encode()
        assert before <= int(tags[b"t"]) <= before + 60
        # A body length would let anyone append to the body (RFC 6376 8.2).
        assert b"l" not in tags
        assert b"x" not in tags


def test_a_digest_signs_each_header_it_has_once_more_than_it_occurs(digest, signer):
    listed = [
        b"from",
        b"reply-to",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"list-id",
        b"list-unsubscribe",
        b"list-unsubscribe-post",
        b"feedback-id",
        b"auto-submitted",
        b"mime-version",
        b"content-type",
    ]
    for tags in _signature_tags(signer.sign(digest)):
        assert _h(tags) == listed + listed


@pytest.mark.parametrize("kind", [MessageKind.WELCOME, MessageKind.MANAGE])
def test_a_lifecycle_email_signs_its_headers_and_the_absence_of_unsubscribe_ones(app, signer, kind):
    data = _lifecycle_copy(app, kind).data
    message = email.message_from_bytes(data, policy=default_policy)
    present = [name for name in SIGNED_HEADERS if name.decode() in message]
    assert (b"list-unsubscribe-post" in present) is (kind is MessageKind.WELCOME)
    always = {b"list-unsubscribe", b"list-unsubscribe-post", b"auto-submitted"}
    once_more = [name for name in SIGNED_HEADERS if name in present or name in always]
    signed = signer.sign(data)
    assert _verdicts(signed, _records(signer)) == [True, True]
    for tags in _signature_tags(signed):
        assert _h(tags) == present + once_more


@pytest.mark.parametrize("top", [True, False], ids=["top", "bottom"])
@pytest.mark.parametrize(
    "line",
    [
        b"List-Unsubscribe: <https://evil.example/u>",
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        b"Auto-Submitted: no",
    ],
    ids=lambda line: line.split(b":")[0].decode(),
)
def test_nobody_can_add_an_unsubscribe_or_auto_submitted_header_to_any_email(
    app, signer, line, top
):
    # A manage-link email has no List-Unsubscribe; every email has one Auto-Submitted.
    signed = signer.sign(_lifecycle_copy(app, MessageKind.MANAGE).data)
    assert _verdicts(signed, _records(signer)) == [True, True]
    changed = _add_header(signed, line, top=top)
    assert _verdicts(changed, _records(signer)) == [False, False]


def test_the_signed_message_still_parses_cleanly_in_lines_of_legal_length(digest, signer):
    signed = signer.sign(digest)
    message = email.message_from_bytes(signed, policy=default_policy)
    assert [part.defects for part in message.walk()] == [[], [], []]
    assert signed.count(b"\n") == signed.count(b"\r\n")
    assert max(map(len, signed.split(b"\r\n"))) <= 998
    fields = signed.removesuffix(digest)
    assert max(map(len, fields.split(b"\r\n"))) <= 78


def test_the_headers_a_message_has_are_listed_and_the_unsubscribe_ones_always():
    absent = [b"list-unsubscribe", b"list-unsubscribe-post", b"auto-submitted"]
    names = [b"Received", b"From", b"To", b"Subject", b"X-Mailer", b"Return-Path"]
    assert signed_headers(names) == [b"from", b"to", b"subject"] * 2 + absent
    assert signed_headers([b"From", b"To", b"To"]) == [
        *(b"from", b"to", b"to"),
        *(b"from", b"to", *absent),
    ]
    assert signed_headers([b"From", b"Auto-Submitted"]) == [
        *(b"from", b"auto-submitted"),
        *(b"from", b"list-unsubscribe", b"list-unsubscribe-post", b"auto-submitted"),
    ]


# What breaks the signatures, and what does not.


@pytest.mark.parametrize("name", TAMPERED)
def test_changing_any_signed_header_breaks_both_signatures(digest, signer, name):
    signed = signer.sign(digest)
    assert _verdicts(_change_header(signed, name), _records(signer)) == [False, False]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda body: body.replace(b"Partnership", b"Partnerschip", 1), id="word"),
        pytest.param(lambda body: body + b"Click here to claim a prize.\r\n", id="appended"),
        pytest.param(lambda body: body.replace(b"=\r\n", b"\r\n", 1), id="soft-break"),
    ],
)
def test_changing_the_body_breaks_both_signatures(digest, signer, change):
    head, body = _head_and_body(signer.sign(digest))
    changed = head + change(body)
    assert changed != head + body
    assert _verdicts(changed, _records(signer)) == [False, False]


@pytest.mark.parametrize("top", [True, False], ids=["top", "bottom"])
@pytest.mark.parametrize(
    "line",
    [
        b"From: Your bank <security@bank.example>",
        b"Subject: Urgent: confirm your account",
        b"Reply-To: attacker@evil.example",
        b"To: someone.else@example.org",
        b"List-Unsubscribe: <https://evil.example/u>",
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        b"List-Id: Other list <other.evil.example>",
        b"Auto-Submitted: no",
    ],
    ids=lambda line: line.split(b":")[0].decode(),
)
def test_adding_a_second_copy_of_a_signed_header_breaks_both_signatures(digest, signer, line, top):
    changed = _add_header(signer.sign(digest), line, top=top)
    assert _verdicts(changed, _records(signer)) == [False, False]


def test_relays_may_add_trace_headers_and_refold_signed_ones(digest, signer):
    signed = signer.sign(digest)
    relayed = _add_header(signed, b"Received: from relay.example by mx.example", top=True)
    relayed = _add_header(relayed, b"X-Spam-Score: 0.1", top=False)
    relayed = re.sub(rb"(?m)^Subject: ", b"Subject:   ", relayed, count=1)
    assert relayed != signed
    assert _verdicts(relayed, _records(signer)) == [True, True]


# The RSA step: OpenSSL in dkimpy's place, with the same result.


def test_the_fast_rsa_signature_is_byte_for_byte_the_one_dkimpy_makes(
    digest, settings, rsa_key, monkeypatch
):
    del settings["DKIM_ED25519_KEY_FILE"]
    rsa_only = Signer.from_config(settings)
    assert rsa_only is not None
    monkeypatch.setattr(dkim.time, "time", lambda: 1_795_590_000.5)
    field = rsa_only.sign(digest).removesuffix(digest)
    include = signed_headers(name for name, _ in dkim.DKIM(digest).headers)
    expected = dkim.sign(
        digest,
        RSA_SELECTOR.encode(),
        FROM_DOMAIN.encode(),
        _pem(rsa_key),
        include_headers=include,
        canonicalize=(b"relaxed", b"relaxed"),
    )
    assert b"t=1795590000;" in expected
    assert field == expected


def test_rsa_signing_never_uses_dkimpys_own_rsa_arithmetic(digest, signer, monkeypatch):
    def pure_python_rsa(*args):
        pytest.fail("the signer fell back to dkimpy's pure-Python RSA")

    monkeypatch.setattr(dkim, "RSASSA_PKCS1_v1_5_sign", pure_python_rsa)
    assert _verdicts(signer.sign(digest), _records(signer)) == [True, True]


def test_a_message_without_from_cannot_be_signed(signer):
    with pytest.raises(ValueError, match="From header field MUST be signed"):
        signer.sign(b"To: a@example.org\r\nSubject: hi\r\n\r\nHello\r\n")


# Settings: off by default, and a key that cannot sign stops the signer from being built.


@pytest.mark.parametrize("value", [None, ""])
def test_signing_is_off_without_a_key_file(value):
    assert Signer.from_config({"MAIL_FROM": MAIL_FROM, "DKIM_KEY_FILE": value}) is None


def test_the_rsa_key_alone_signs_once(settings, digest):
    del settings["DKIM_ED25519_KEY_FILE"]
    signer = Signer.from_config(settings)
    assert signer is not None
    signed = signer.sign(digest)
    assert _verdicts(signed, _records(signer)) == [True]


def test_the_domain_defaults_to_the_from_domain_and_may_be_a_parent_of_it(settings, digest):
    settings["MAIL_FROM"] = "CSP news <news@csp-news.localhost>"
    settings["DKIM_DOMAIN"] = "CSP-News.localhost."
    signer = Signer.from_config(settings)
    assert signer is not None
    assert [key.domain for key in signer.keys] == [FROM_DOMAIN, FROM_DOMAIN]
    settings["MAIL_FROM"] = "news@mail.csp-news.localhost"
    signer = Signer.from_config(settings)
    assert signer is not None
    assert signer.keys[0].dns_name == f"{RSA_SELECTOR}._domainkey.{FROM_DOMAIN}"


def test_a_selector_read_as_a_json_number_is_used_as_text(settings, digest):
    # MAILER_DKIM_SELECTOR=20261125 reaches the config as the integer 20261125.
    settings["DKIM_SELECTOR"] = 20261125
    signer = Signer.from_config(settings)
    assert signer is not None
    signed = signer.sign(digest)
    assert _signature_tags(signed)[0][b"s"] == b"20261125"
    assert _verdicts(signed, _records(signer)) == [True, True]


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            lambda s, d: s.update(DKIM_KEY_FILE=str(d / "missing.pem")),
            "MAILER_DKIM_KEY_FILE: cannot read .*missing.pem: No such file",
        ),
        (
            lambda s, d: s.update(DKIM_KEY_FILE=_write(d / "junk.pem", b"not a key\n")),
            "MAILER_DKIM_KEY_FILE: .*junk.pem is not an unencrypted PEM private key",
        ),
        (
            lambda s, d: s.update(
                DKIM_KEY_FILE=_write(
                    d / "locked.pem",
                    rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.BestAvailableEncryption(b"secret"),
                    ),
                )
            ),
            "MAILER_DKIM_KEY_FILE: .*locked.pem is not an unencrypted PEM private key",
        ),
        (
            lambda s, d: s.update(
                DKIM_KEY_FILE=_write(
                    d / "short.pem",
                    # A weak key on purpose: the signer must refuse it.
                    _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505
                )
            ),
            "MAILER_DKIM_KEY_FILE: the RSA key has 1024 bits; receivers expect at least 2048",
        ),
        (
            lambda s, d: s.update(DKIM_KEY_FILE=s["DKIM_ED25519_KEY_FILE"]),
            "MAILER_DKIM_KEY_FILE: .*ed25519.pem is not an RSA key",
        ),
        (
            lambda s, d: s.update(DKIM_ED25519_KEY_FILE=s["DKIM_KEY_FILE"]),
            "MAILER_DKIM_ED25519_KEY_FILE: .*rsa.pem is not an Ed25519 key",
        ),
        (
            lambda s, d: s.pop("DKIM_SELECTOR"),
            "MAILER_DKIM_SELECTOR must be set with MAILER_DKIM_KEY_FILE",
        ),
        (
            lambda s, d: s.update(DKIM_ED25519_SELECTOR=""),
            "MAILER_DKIM_ED25519_SELECTOR must be set with MAILER_DKIM_ED25519_KEY_FILE",
        ),
        (
            lambda s, d: s.update(DKIM_ED25519_SELECTOR=RSA_SELECTOR),
            "MAILER_DKIM_ED25519_SELECTOR must differ from MAILER_DKIM_SELECTOR",
        ),
        (
            lambda s, d: s.pop("DKIM_KEY_FILE"),
            "MAILER_DKIM_ED25519_KEY_FILE needs MAILER_DKIM_KEY_FILE as well",
        ),
        (
            lambda s, d: s.update(DKIM_SELECTOR="2026 q4"),
            "MAILER_DKIM_SELECTOR: '2026 q4' is not a DNS name",
        ),
        (
            lambda s, d: s.update(DKIM_DOMAIN="example.org"),
            "MAILER_DKIM_DOMAIN: example.org is neither the From domain",
        ),
        (
            lambda s, d: s.update(DKIM_DOMAIN="news.csp-news.localhost"),
            "MAILER_DKIM_DOMAIN: news.csp-news.localhost is neither the From domain",
        ),
        (
            lambda s, d: s.update(DKIM_DOMAIN="localhost"),
            "MAILER_DKIM_DOMAIN: localhost is a top-level domain",
        ),
        (
            lambda s, d: s.update(DKIM_DOMAIN="csp_news.localhost"),
            "MAILER_DKIM_DOMAIN: 'csp_news.localhost' is not a DNS name",
        ),
    ],
    ids=[
        "missing-file",
        "not-pem",
        "encrypted",
        "rsa-1024",
        "ed25519-as-rsa",
        "rsa-as-ed25519",
        "no-selector",
        "no-ed25519-selector",
        "same-selectors",
        "ed25519-alone",
        "bad-selector",
        "other-domain",
        "child-domain",
        "top-level-domain",
        "bad-domain",
    ],
)
def test_a_key_that_cannot_sign_is_refused_naming_the_setting(
    settings, tmp_path, change, complaint
):
    change(settings, tmp_path)
    with pytest.raises(DkimKeyError, match=complaint) as caught:
        Signer.from_config(settings)
    assert isinstance(caught.value, ValueError)


# mailer dkim-keygen


def _keygen(runner, *args: str):
    return runner.invoke(dkim_keygen, list(args))


def _published(line: str) -> tuple[str, bytes]:
    """The name and the record text (strings joined) of a printed TXT record line."""
    name, kind, strings = line.split(None, 2)
    assert kind == "TXT"
    parts = re.findall(r'"([^"]*)"', strings)
    assert strings == " ".join(f'"{part}"' for part in parts)
    assert all(len(part) <= 255 for part in parts)
    return name, "".join(parts).encode()


def _sign_with_written_key(path: Path, selector: str, domain: str, message: bytes) -> bytes:
    """Sign `message` with the key in `path` (as the RSA key, or beside a fresh one)."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        return Signer(DkimKey.from_private_key(key, selector=selector, domain=domain)).sign(message)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    helper = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = Signer(
        DkimKey.from_private_key(helper, selector="helper", domain=domain),
        DkimKey.from_private_key(key, selector=selector, domain=domain),
    )
    return signer.sign(message)


@pytest.mark.parametrize(
    ("kind", "strings", "idx"),
    [("rsa", 2, 0), ("ed25519", 1, 1)],
)
def test_keygen_writes_an_owner_only_key_whose_printed_record_verifies_its_signatures(
    runner, tmp_path, digest, kind, strings, idx
):
    out = tmp_path / "keys" / f"{kind}.pem"
    out.parent.mkdir()
    result = _keygen(
        runner,
        "--type",
        kind,
        "--selector",
        "2026q4",
        "--domain",
        "CSP-News.localhost",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert f"Wrote the private key to {out} (mode 0600)" in result.stderr
    [line] = result.stdout.splitlines()
    name, record = _published(line)
    assert name == "2026q4._domainkey.csp-news.localhost"
    assert len(re.findall(r'"[^"]*"', line)) == strings
    assert record.startswith(f"v=DKIM1; k={kind}; p=".encode())
    signed = _sign_with_written_key(out, "2026q4", FROM_DOMAIN, digest)
    records = {f"{name}.".encode(): record}
    assert _verifies(signed, records, idx)


def test_keygen_makes_longer_rsa_keys_on_request(runner, tmp_path):
    out = tmp_path / "rsa.pem"
    result = _keygen(
        runner, "--bits", "3072", "--selector", "s", "--domain", "example.org", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    key = serialization.load_pem_private_key(out.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 3072


def test_keygen_refuses_to_overwrite_a_file_without_force(runner, tmp_path):
    out = tmp_path / "dkim.pem"
    out.write_bytes(b"the key in use\n")
    args = ["--type", "ed25519", "--selector", "s", "--domain", "example.org", "--out", str(out)]
    result = _keygen(runner, *args)
    assert result.exit_code == 1
    assert f"{out} exists; pass --force to replace it" in result.output
    assert result.stdout == ""
    assert out.read_bytes() == b"the key in use\n"


def test_keygen_with_force_replaces_the_file_and_makes_it_owner_only(runner, tmp_path):
    out = tmp_path / "dkim.pem"
    out.write_bytes(b"old\n")
    os.chmod(out, 0o644)
    args = ["--type", "ed25519", "--selector", "s", "--domain", "example.org", "--out", str(out)]
    result = _keygen(runner, *args, "--force")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--bits", "1024"], "1024 is not in the range 2048<=x<=4096"),
        (["--selector", "a b"], "'a b' is not a DNS name"),
        (["--domain", "-bad-.org"], "'-bad-.org' is not a DNS name"),
    ],
)
def test_keygen_refuses_weak_keys_and_names_that_are_not_dns_names(
    runner, tmp_path, args, complaint
):
    out = tmp_path / "dkim.pem"
    defaults = {"--selector": "s", "--domain": "example.org", "--out": str(out)}
    defaults.update(zip(args[::2], args[1::2], strict=True))
    result = _keygen(runner, *[part for pair in defaults.items() for part in pair])
    assert result.exit_code == 2
    assert complaint in result.output
    assert not out.exists()


def test_keygen_says_why_it_cannot_write_the_key(runner, tmp_path):
    out = tmp_path / "no-such-folder" / "dkim.pem"
    args = ["--type", "ed25519", "--selector", "s", "--domain", "example.org.", "--out", str(out)]
    result = _keygen(runner, *args)
    assert result.exit_code == 1
    assert f"cannot write {out}: No such file or directory" in result.output


# The worker signs what it sends.


def test_the_worker_signs_each_message_so_that_the_bytes_received_verify(app, smtpd, settings):
    app.config.update(settings)
    _digest_copies(app)
    with app.app_context():
        queue_emails(1, kind=MessageKind.WELCOME, now=NOW)
    assert send_queued(app, now=NOW + timedelta(days=1)).sent == 3
    received = smtpd.drain()
    assert len(received) == 3
    signer = Signer.from_config(settings)
    assert signer is not None
    for message in received:
        assert _verdicts(message.content, _records(signer)) == [True, True]
        assert b"list-unsubscribe-post" in _h(_signature_tags(message.content)[0])


def test_a_message_that_cannot_be_signed_fails_alone(app, smtpd, settings, monkeypatch):
    app.config.update(settings)
    with app.app_context():
        queue_emails(2, kind=MessageKind.MANAGE, now=NOW)
    calls = []

    def sign_but_the_first(self, message):
        calls.append(message)
        if len(calls) == 1:
            raise ValueError("cannot DKIM-sign the message: no From")
        return original(self, message)

    original = Signer.sign
    monkeypatch.setattr(Signer, "sign", sign_but_the_first)
    stats = send_queued(app, now=NOW)
    assert (stats.sent, stats.failed) == (1, 1)
    assert len(smtpd.drain()) == 1


def test_the_worker_will_not_start_with_a_key_it_cannot_use(app, settings, tmp_path):
    settings["DKIM_KEY_FILE"] = str(tmp_path / "missing.pem")
    app.config.update(settings)
    with app.app_context(), pytest.raises(DkimKeyError, match="MAILER_DKIM_KEY_FILE"):
        worker_from_config(app.config)


def test_mailer_worker_exits_saying_which_dkim_setting_is_wrong(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(Path.home()),
        "MAILER_ENV": "testing",
        "MAILER_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite'}",
        "MAILER_DKIM_KEY_FILE": str(tmp_path / "missing.pem"),
        "MAILER_DKIM_SELECTOR": RSA_SELECTOR,
    }
    result = subprocess.run(
        [MAILER, "worker", "--once"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"Error: MAILER_DKIM_KEY_FILE: cannot read {tmp_path / 'missing.pem'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_mailer_lists_the_dkim_keygen_command(runner):
    result = runner.invoke(args=["--help"])
    assert "  dkim-keygen " in result.output
