"""Reading what came back, without a database: status codes, MTA formats, hostile input."""

from __future__ import annotations

import pytest

from mailer.delivery.returns import Inbound
from mailer.delivery.returns import Verdict
from mailer.delivery.returns import classify
from mailer.delivery.returns import classify_status
from mailer.delivery.verp import InboxAddresses
from mailer.delivery.verp import verp_address
from tests.bounces import samples
from tests.bounces.samples import Original

DOMAIN = "bounces.csp-news.localhost"
# The key drawn for the delivery, which its return path carries.
KEY = "0f3c9a5e2b7d41c8a6e3"
HEADERS = """\
Return-Path: <{verp}>
To: reader0@example.org
From: CSP news <news@csp-news.localhost>
Subject: CSP news: 1 update (daily, 25 November 2026)
List-Id: CSP news <news.csp-news.localhost>
Message-ID: <0f3c9a@csp-news.localhost>
"""


@pytest.mark.parametrize(
    ("status", "diagnostic", "verdict"),
    [
        ("5.1.1", "550 5.1.1 user unknown", Verdict.HARD),
        ("5.1.2", "no such domain", Verdict.HARD),
        ("5.1.3", "bad address syntax", Verdict.HARD),
        ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound", Verdict.HARD),
        ("5.0.0", "550 rejected", Verdict.HARD),
        ("5.4.4", "unable to route", Verdict.HARD),
        ("5.2.1", "550-5.2.1 The email account that you tried to reach is inactive", Verdict.HARD),
        (
            "5.2.1",
            "550-5.2.1 The user you are trying to contact is receiving mail too fast",
            Verdict.SOFT,
        ),
        ("5.2.2", "552-5.2.2 The recipient's inbox is out of storage space", Verdict.SOFT),
        ("5.4.7", "delivery time expired", Verdict.SOFT),
        ("4.2.2", "452 4.2.2 Mailbox full", Verdict.SOFT),
        ("4.4.1", "connection timed out", Verdict.SOFT),
        ("4.7.28", "421-4.7.28 unusual rate of unsolicited mail", Verdict.POLICY),
        ("5.7.1", "550 5.7.1 message rejected as spam", Verdict.POLICY),
        ("5.7.26", "550-5.7.26 unauthenticated sender", Verdict.POLICY),
        (
            "5.7.515",
            "550 5.7.515 Access denied, sending domain does not meet the required authentication",
            Verdict.POLICY,
        ),
        ("5.6.0", "content rejected", Verdict.POLICY),
        ("5.3.4", "message too big", Verdict.POLICY),
        ("2.0.0", "delivered", Verdict.IGNORED),
        ("", "", Verdict.UNREADABLE),
        ("9.9.9", "", Verdict.UNREADABLE),
    ],
)
def test_a_status_code_says_what_a_failure_means_for_the_address(status, diagnostic, verdict):
    assert classify_status(status, diagnostic) is verdict


def _original(app, delivery_id: int = 7) -> Original:
    verp = verp_address(delivery_id, KEY, DOMAIN)
    return Original(
        recipient="reader0@example.org",
        verp=verp,
        headers=HEADERS.format(verp=verp),
        message_id="<0f3c9a@csp-news.localhost>",
    )


def _classify(app, data: bytes, *, to: str):
    return classify(Inbound("", (to,), data), InboxAddresses.from_config(app.config))


# Input style -> verdict, status, and which addresses the report names.
STYLES = [
    (samples.postfix_user_unknown, Verdict.HARD, "5.1.1"),
    (samples.exim_rcpt_rejected, Verdict.HARD, "5.1.1"),
    (samples.exchange_recipient_not_found, Verdict.HARD, "5.1.10"),
    (samples.gmail_over_quota, Verdict.SOFT, "5.2.2"),
    (samples.qmail_no_mailbox, Verdict.HARD, "5.1.1"),
    (samples.postfix_mailbox_full, Verdict.SOFT, "4.2.2"),
    (samples.postfix_delayed, Verdict.IGNORED, ""),
    (samples.exim_delay_warning, Verdict.IGNORED, ""),
    (samples.gmail_unauthenticated, Verdict.POLICY, "5.7.26"),
    (samples.vacation_reply, Verdict.IGNORED, ""),
    (samples.garbage, Verdict.UNREADABLE, ""),
]


@pytest.mark.parametrize(
    ("build", "verdict", "status"), STYLES, ids=lambda v: getattr(v, "__name__", None)
)
def test_each_mta_format_to_a_verp_address_is_read(app, build, verdict, status):
    with app.app_context():
        original = _original(app)
        [outcome] = _classify(app, build(original), to=original.verp)
    assert (outcome.verdict, outcome.status, outcome.delivery_id) == (verdict, status, 7)
    assert outcome.return_key == KEY
    if verdict in (Verdict.HARD, Verdict.SOFT):
        assert outcome.addresses == ("reader0@example.org",)
        assert status in outcome.diagnostic


def test_the_remote_servers_words_are_kept_on_one_line(app):
    with app.app_context():
        original = _original(app)
        [postfix] = _classify(app, samples.postfix_user_unknown(original), to=original.verp)
        [qmail] = _classify(app, samples.qmail_no_mailbox(original), to=original.verp)
        [exim] = _classify(app, samples.exim_rcpt_rejected(original), to=original.verp)
    assert postfix.diagnostic == (
        "550 5.1.1 <reader0@example.org>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert qmail.diagnostic == "Sorry, no mailbox here by that name. (#5.1.1)"
    assert (
        exim.diagnostic
        == "550 5.1.1 <reader0@example.org>: Recipient address rejected: User unknown"
    )


def test_a_complaint_names_the_delivery_by_the_return_path_of_the_reported_message(app):
    with app.app_context():
        original = _original(app, delivery_id=31)
        [outcome] = _classify(
            app, samples.aol_complaint(original), to="unsubscribe@csp-news.localhost"
        )
    assert outcome.verdict is Verdict.COMPLAINT
    assert (outcome.delivery_id, outcome.return_key) == (31, KEY)
    assert outcome.message_id == "<0f3c9a@csp-news.localhost>"
    assert outcome.diagnostic == "Feedback-Type: abuse; User-Agent: AOL SComp"


def test_a_redacted_complaint_still_carries_our_message_id(app):
    with app.app_context():
        original = _original(app)
        [outcome] = _classify(
            app, samples.yahoo_complaint(original), to="unsubscribe@csp-news.localhost"
        )
    assert (outcome.verdict, outcome.delivery_id) == (Verdict.COMPLAINT, None)
    assert outcome.message_id == "<0f3c9a@csp-news.localhost>"
    assert "redacted@yahoo.com" in outcome.addresses


def test_a_forged_return_path_in_a_complaint_is_not_believed(app):
    with app.app_context():
        original = _original(app, delivery_id=31)
        forged = original.headers.replace(
            original.verp, original.verp[:-25] + "0" + original.verp[-24:]
        )
        data = samples.aol_complaint(
            Original(original.recipient, original.verp, forged, original.message_id)
        )
        [outcome] = _classify(app, data, to="unsubscribe@csp-news.localhost")
    assert (outcome.verdict, outcome.delivery_id) == (Verdict.COMPLAINT, None)


@pytest.mark.parametrize("kind", ["not-spam", "auth-failure"])
def test_feedback_that_is_not_a_complaint_is_ignored(app, kind):
    with app.app_context():
        original = _original(app)
        data = samples.aol_complaint(original).replace(
            b"Feedback-Type: abuse", f"Feedback-Type: {kind}".encode()
        )
        [outcome] = _classify(app, data, to=original.verp)
    assert outcome.verdict is Verdict.IGNORED


@pytest.mark.parametrize(
    ("subject", "verdict"),
    [
        ("unsubscribe eyJzIjoxLCJ2IjoxfQ.aBcD-eF_gh", Verdict.UNSUBSCRIBE),
        ("  UNSUBSCRIBE   eyJzIjoxLCJ2IjoxfQ.aBcD-eF_gh  ", Verdict.UNSUBSCRIBE),
        ("please take me off your list", Verdict.UNREADABLE),
        ("unsubscribe", Verdict.UNREADABLE),
    ],
)
def test_mail_to_the_unsubscribe_address_needs_the_token_in_its_subject(app, subject, verdict):
    data = samples.unsubscribe_email("reader@example.org", "unsubscribe@csp-news.localhost", "T")
    data = data.replace(b"Subject: unsubscribe T", f"Subject: {subject}".encode())
    with app.app_context():
        [outcome] = _classify(app, data, to="unsubscribe@csp-news.localhost")
    assert outcome.verdict is verdict
    if verdict is Verdict.UNSUBSCRIBE:
        assert outcome.token == "eyJzIjoxLCJ2IjoxfQ.aBcD-eF_gh"


def test_an_encoded_subject_is_decoded_before_the_token_is_read(app):
    data = samples.unsubscribe_email("r@example.org", "unsubscribe@csp-news.localhost", "T")
    data = data.replace(
        b"Subject: unsubscribe T", b"Subject: =?utf-8?q?unsubscribe_abcdefghij.KLMNOP?="
    )
    with app.app_context():
        [outcome] = _classify(app, data, to="unsubscribe@csp-news.localhost")
    assert (outcome.verdict, outcome.token) == (Verdict.UNSUBSCRIBE, "abcdefghij.KLMNOP")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        # A report cut off in its middle, with no closing boundary.
        samples.postfix_user_unknown(Original("r@example.org", "x", "Subject: x\n", "<x@y>"))[
            :1500
        ],
        # Undecodable bytes, an unknown charset and a broken RFC 2047 word in the headers.
        b"Subject: =?x-unknown?q?=FF?= \xff\xfe\r\n"
        b"Content-Type: text/plain; charset=x-nope\r\n\r\n\xff",
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\nStatus: \xff\r\n",
        b"Content-Type: message/rfc822\r\n\r\n" * 200,
        # A 5 MB body of one line.
        b"Subject: big\r\n\r\n" + b"x" * (5 * 1024 * 1024),
    ],
    ids=["empty", "blank", "truncated", "bad-bytes", "bad-status", "nested", "5MB"],
)
def test_hostile_input_never_raises_and_is_kept_or_ignored(app, data):
    with app.app_context():
        original = _original(app)
        outcomes = _classify(app, data, to=original.verp)
    assert [o.verdict for o in outcomes] in (
        [Verdict.UNREADABLE],
        [Verdict.IGNORED],
        [Verdict.HARD],
    )
    for outcome in outcomes:
        assert "\n" not in outcome.problem + outcome.diagnostic


def test_a_failed_report_without_a_status_code_is_a_hard_bounce(app):
    data = (
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        b"Final-Recipient: rfc822; r@example.org\r\nAction: failed\r\n\r\n--b--\r\n"
    )
    with app.app_context():
        original = _original(app)
        [outcome] = _classify(app, data, to=original.verp)
    assert (outcome.verdict, outcome.addresses) == (Verdict.HARD, ("r@example.org",))


def test_a_vague_status_gives_way_to_the_code_in_the_servers_reply(app):
    data = samples.exchange_recipient_not_found(_original_plain()).replace(
        b"Status: 5.1.10", b"Status: 5.0.0"
    )
    with app.app_context():
        original = _original(app)
        [outcome] = _classify(app, data, to=original.verp)
    assert (outcome.verdict, outcome.status) == (Verdict.HARD, "5.1.10")


def _original_plain() -> Original:
    return Original("reader0@example.org", "x@y", "Subject: x\n", "<x@y>")


def test_mail_for_postmaster_is_kept_for_staff(app):
    with app.app_context():
        [outcome] = _classify(app, b"Subject: hello\r\n\r\nhi\r\n", to=f"postmaster@{DOMAIN}")
    assert (outcome.verdict, outcome.problem) == (Verdict.UNREADABLE, "mail to postmaster address")
