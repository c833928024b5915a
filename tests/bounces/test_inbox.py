"""The bounce inbox over SMTP: what comes back from real sends, and what staff then see."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from mailer.extensions import db
from mailer.models import BounceEvent
from mailer.models import ConsentEvent
from mailer.models import InboundMessage
from mailer.models import Suppression
from mailer.servers.inbox import MAX_MESSAGE_SIZE
from mailer.servers.inbox import start_inbox
from tests.bounces import samples
from tests.bounces.conftest import Seen
from tests.bounces.conftest import Sent
from tests.bounces.conftest import deliver
from tests.bounces.conftest import seen
from tests.bounces.conftest import send_digests
from tests.helpers import ALLOWED_SMTP_PORTS

UNSUBSCRIBE = "unsubscribe@csp-news.localhost"


@dataclass(frozen=True)
class Case:
    """One input style: what is sent to which address, and what staff and the reader see."""

    style: str
    message: Callable[[Sent], bytes]
    to: Callable[[Sent], str]
    expect: Seen


def _verp(item: Sent) -> str:
    return item.original.verp


def _unsubscribe_address(item: Sent) -> str:
    return UNSUBSCRIBE


def _unsubscribe_email(item: Sent) -> bytes:
    return samples.unsubscribe_email(item.original.recipient, UNSUBSCRIBE, item.unsubscribe_token)


def _from(build: samples.Builder) -> Callable[[Sent], bytes]:
    return lambda item: build(item.original)


HARD = Seen("bounced", "suppressed", "hard_bounce", [], [])
UNTOUCHED = Seen("sent", "active", None, [], [])
COMPLAINED = Seen("sent", "suppressed", "complaint", [("complaint", "")], [])

CASES = [
    Case(
        "Postfix DSN, 550 5.1.1 user unknown",
        _from(samples.postfix_user_unknown),
        _verp,
        Seen("bounced", "suppressed", "hard_bounce", [("hard", "5.1.1")], []),
    ),
    Case(
        "Exim text, 550 5.1.1 after RCPT TO",
        _from(samples.exim_rcpt_rejected),
        _verp,
        Seen("bounced", "suppressed", "hard_bounce", [("hard", "5.1.1")], []),
    ),
    Case(
        "Microsoft 365 NDR, 550 5.1.10 RecipientNotFound",
        _from(samples.exchange_recipient_not_found),
        _verp,
        Seen("bounced", "suppressed", "hard_bounce", [("hard", "5.1.10")], []),
    ),
    Case(
        "qmail QSBMF, (#5.1.1) no mailbox",
        _from(samples.qmail_no_mailbox),
        _verp,
        Seen("bounced", "suppressed", "hard_bounce", [("hard", "5.1.1")], []),
    ),
    Case(
        "Gmail DSN, 552-5.2.2 inbox full",
        _from(samples.gmail_over_quota),
        _verp,
        Seen("bounced", "active", None, [("soft", "5.2.2")], []),
    ),
    Case(
        "Postfix DSN, failed after retries, 452 4.2.2",
        _from(samples.postfix_mailbox_full),
        _verp,
        Seen("bounced", "active", None, [("soft", "4.2.2")], []),
    ),
    Case(
        "Postfix delay DSN, Action: delayed 4.4.1",
        _from(samples.postfix_delayed),
        _verp,
        UNTOUCHED,
    ),
    Case(
        "Exim text delay warning, 451 4.7.1 greylisted",
        _from(samples.exim_delay_warning),
        _verp,
        UNTOUCHED,
    ),
    Case(
        "Gmail DSN, 550-5.7.26 unauthenticated",
        _from(samples.gmail_unauthenticated),
        _verp,
        Seen(
            "sent",
            "active",
            None,
            [],
            [
                "refused for our message, not the address: 5.7.26 550-5.7.26 Your email has "
                "been blocked because the sender is unauthenticated. 550-5.7.26 Gmail requires "
                "all senders to authenticate with either SPF or DKIM. "
                "41be03b00d2f7-7c0e5b1d3f2si1234567a12.88 - gsmtp"
            ],
        ),
    ),
    Case(
        "ARF (AOL style), sent to the VERP return path",
        _from(samples.aol_complaint),
        _verp,
        COMPLAINED,
    ),
    Case(
        "ARF (AOL style), to the unsubscribe address, Return-Path in the report",
        _from(samples.aol_complaint),
        _unsubscribe_address,
        COMPLAINED,
    ),
    Case(
        "ARF (Yahoo style), recipient redacted, Message-ID only",
        _from(samples.yahoo_complaint),
        _unsubscribe_address,
        COMPLAINED,
    ),
    Case(
        "email to the unsubscribe address, subject unsubscribe TOKEN",
        _unsubscribe_email,
        _unsubscribe_address,
        Seen("sent", "unsubscribed", None, [("unsubscribe", "")], []),
    ),
    Case(
        "out-of-office auto-reply to the VERP return path",
        _from(samples.vacation_reply),
        _verp,
        UNTOUCHED,
    ),
    Case(
        "a person's reply to the VERP return path",
        _from(samples.personal_reply),
        _verp,
        Seen("sent", "active", None, [], ["no failed recipient found"]),
    ),
    Case(
        "garbage to the VERP return path",
        _from(samples.garbage),
        _verp,
        Seen(
            "sent",
            "active",
            None,
            [],
            ["bounce detectors failed: IndexError: list index out of range"],
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.style)
def test_what_comes_back_is_recorded_as_staff_and_the_reader_then_see_it(app, inbox, sent, case):
    item = sent[0]
    assert deliver(inbox, case.message(item), to=[case.to(item)]) == {}
    assert seen(app, item) == case.expect
    # No other reader is touched.
    assert all(replace(seen(app, other), kept=[]) == UNTOUCHED for other in sent[1:])


def test_a_hard_bounce_keeps_the_status_and_the_servers_words_as_the_reason(app, inbox, sent):
    item = sent[1]
    deliver(inbox, samples.postfix_user_unknown(item.original), to=[item.original.verp])
    with app.app_context():
        suppression = db.session.scalars(select(Suppression)).one()
        event = db.session.scalars(select(BounceEvent)).one()
    words = (
        f"550 5.1.1 <{item.original.recipient}>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert (suppression.email, suppression.detail) == (item.original.recipient, f"5.1.1 {words}")
    assert suppression.created_by == "bounce-inbox"
    assert (event.delivery_id, event.subscriber_id, event.diagnostic) == (
        item.delivery_id,
        item.subscriber_id,
        words,
    )


def test_a_complaint_is_recorded_as_a_withdrawal_of_consent(app, inbox, sent):
    item = sent[0]
    deliver(inbox, samples.yahoo_complaint(item.original), to=[UNSUBSCRIBE])
    deliver(inbox, _unsubscribe_email(sent[1]), to=[UNSUBSCRIBE], mail_from="r@example.org")
    with app.app_context():
        methods = db.session.execute(
            select(ConsentEvent.subscriber_id, ConsentEvent.action, ConsentEvent.detail)
        ).all()
        suppression = db.session.scalars(select(Suppression)).one()
    assert [(s, a.value, d["method"]) for s, a, d in methods] == [
        (item.subscriber_id, "unsubscribed", "complaint"),
        (sent[1].subscriber_id, "unsubscribed", "email"),
    ]
    assert suppression.detail == "Feedback-Type: abuse; User-Agent: Yahoo!-Mail-Feedback/2.0"


def test_three_soft_bounces_suppress_and_two_do_not(app, inbox, smtpd):
    first, second, third = send_digests(app, smtpd, readers=1, days=3)
    for count, item in enumerate((first, second), start=1):
        deliver(inbox, samples.gmail_over_quota(item.original), to=[item.original.verp])
        # A second report of the same failed delivery does not count twice, nor add a row.
        deliver(inbox, samples.gmail_over_quota(item.original), to=[item.original.verp])
        assert seen(app, first).subscriber == "active", f"after {count} soft bounces"
    deliver(inbox, samples.postfix_mailbox_full(third.original), to=[third.original.verp])
    after = seen(app, third)
    assert (after.subscriber, after.suppression) == ("suppressed", "soft_bounces")
    assert after.events == [("soft", "5.2.2")] * 2 + [("soft", "4.2.2")]
    with app.app_context():
        detail = db.session.scalars(select(Suppression.detail)).one()
    assert detail.startswith("3 soft bounces in 14 days, the last: 4.2.2 452 4.2.2")


def test_an_unreadable_message_is_kept_whole_for_staff(app, inbox, sent):
    item = sent[0]
    data = samples.garbage(item.original)
    deliver(inbox, data, to=[item.original.verp])
    with app.app_context():
        kept = db.session.scalars(select(InboundMessage)).one()
        assert (kept.mail_from, kept.rcpt_to, kept.handled_at) == ("", item.original.verp, None)
        # SMTP dot-stuffing and line ends aside, the bytes are those sent.
        assert kept.content.rstrip(b"\r\n") == data.rstrip(b"\r\n")


def test_an_unsubscribe_email_with_a_bad_token_is_kept_and_unsubscribes_nobody(app, inbox, sent):
    item = sent[0]
    token = item.unsubscribe_token[:-2] + (
        "AA" if not item.unsubscribe_token.endswith("AA") else "BB"
    )
    data = samples.unsubscribe_email(item.original.recipient, UNSUBSCRIBE, token)
    deliver(inbox, data, to=[UNSUBSCRIBE], mail_from=item.original.recipient)
    after = seen(app, item)
    assert after.subscriber == "active"
    assert after.kept[0].startswith("unsubscribe token not valid: Signature")


def test_a_complaint_that_matches_nobody_is_kept_for_staff(app, inbox, sent):
    item = sent[0]
    data = samples.yahoo_complaint(item.original).replace(
        item.original.message_id.encode(), b"<unknown@elsewhere.example>"
    )
    deliver(inbox, data, to=[UNSUBSCRIBE])
    assert seen(app, item).kept == [
        "no email of ours that still exists matches this complaint report"
    ]
    assert seen(app, item).subscriber == "active"


def test_the_inbox_is_not_a_relay(app, inbox, sent):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        deliver(inbox, b"Subject: hi\r\n\r\nhello\r\n", to=["someone@example.org"])
    assert refused.value.recipients == {"someone@example.org": (550, b"5.7.1 relaying denied")}


def test_a_forged_return_path_is_refused(app, inbox, sent):
    verp = sent[0].original.verp
    local, _, domain = verp.partition("@")
    forged = f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        deliver(inbox, samples.postfix_user_unknown(sent[0].original), to=[forged])
    assert refused.value.recipients[forged] == (550, b"5.1.1 no such bounce address")
    assert seen(app, sent[0]) == UNTOUCHED


def test_only_our_recipients_of_a_message_are_taken(app, inbox, sent):
    item = sent[0]
    refused = deliver(
        inbox,
        samples.postfix_user_unknown(item.original),
        to=["elsewhere@example.org", item.original.verp.upper()],
    )
    assert refused == {"elsewhere@example.org": (550, b"5.7.1 relaying denied")}
    assert seen(app, item).suppression == "hard_bounce"


def test_mail_to_postmaster_is_taken_and_kept(app, inbox):
    deliver(
        inbox,
        b"Subject: abuse report\r\n\r\nhello\r\n",
        to=["Postmaster@bounces.csp-news.localhost"],
        mail_from="admin@example.org",
    )
    with app.app_context():
        kept = db.session.scalars(select(InboundMessage)).one()
    assert (kept.problem, kept.mail_from) == ("mail to postmaster address", "admin@example.org")


def test_a_message_over_the_size_limit_is_refused(app, inbox, sent):
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * (MAX_MESSAGE_SIZE // 1000 + 1)
    with smtplib.SMTP("127.0.0.1", inbox.port, timeout=30) as smtp:
        # A sender that declares the size is refused at MAIL FROM...
        with pytest.raises(smtplib.SMTPSenderRefused) as declared:
            smtp.sendmail("", [sent[0].original.verp], big)
        assert declared.value.smtp_code == 552
        smtp.rset()
        # ...and one that does not, at the end of DATA.
        smtp.mail("")
        smtp.rcpt(sent[0].original.verp)
        code, _ = smtp.data(big)
    assert code == 552
    assert seen(app, sent[0]) == UNTOUCHED


def test_when_recording_fails_the_sender_is_asked_to_retry_and_nothing_is_half_done(
    app, inbox, sent, monkeypatch
):
    from mailer.domain import suppressions

    item = sent[0]
    real = suppressions.suppress
    calls: list[str] = []

    def locked_once(email, *args, **kwargs):
        calls.append(email)
        if len(calls) == 1:
            raise OperationalError(
                "INSERT INTO suppressions", None, Exception("database is locked")
            )
        return real(email, *args, **kwargs)

    monkeypatch.setattr(suppressions, "suppress", locked_once)
    data = samples.postfix_user_unknown(item.original)
    with pytest.raises(smtplib.SMTPDataError) as error:
        deliver(inbox, data, to=[item.original.verp])
    assert error.value.smtp_code == 451
    # The bounce event and the delivery's new status, written before the failure, went too.
    assert seen(app, item) == UNTOUCHED
    # The sending server tries again later.
    assert deliver(inbox, data, to=[item.original.verp]) == {}
    assert seen(app, item).events == [("hard", "5.1.1")]
    assert seen(app, item).suppression == "hard_bounce"


def test_a_failing_recorder_is_answered_451(app, sent):
    def broken(inbound):
        raise RuntimeError("disk full")

    controller = start_inbox(app, host="127.0.0.1", port=0, record=broken)
    ALLOWED_SMTP_PORTS.add(controller.port)
    try:
        with pytest.raises(smtplib.SMTPDataError) as error:
            deliver(controller, b"Subject: x\r\n\r\nx\r\n", to=[sent[0].original.verp])
    finally:
        controller.stop()
        ALLOWED_SMTP_PORTS.discard(controller.port)
    assert (error.value.smtp_code, error.value.smtp_error) == (
        451,
        b"4.3.0 cannot record the message now; try again later",
    )
