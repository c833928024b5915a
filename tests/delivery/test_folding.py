"""Header folding as a careful MTA does it (RFC 5322 2.1.1): only at whitespace, never right
after the field name, lines of at most 78 characters; list headers never folded."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy

from mailer.delivery.compose import Rendered
from mailer.delivery.compose import build_message
from mailer.delivery.compose import list_headers
from mailer.delivery.compose import serialise
from mailer.delivery.fanout import Filler
from mailer.delivery.fanout import Marks
from mailer.delivery.fanout import Recipient
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import run_prototype
from mailer.models import Frequency

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
WORDS = (
    "CSP news: Councils and partners publish the Safer Streets Fund round 6 guidance "
    "for bids in spring 2027, with worked examples and a checklist for every applicant"
)
ACCENTED = WORDS.replace("Councils", "Councils’").replace("guidance", "guidance café")
LENGTHS = range(60, 121)
# RFC 5322 2.1.1: a line SHOULD be at most 78 characters, CRLF not counted.
WIDTH = 78
BARE_NAME = re.compile(r"[A-Za-z0-9-]+:[ \t]*")


def _subject(words: str, length: int) -> str:
    """The first `length` characters of `words`, ending in a letter as rendered subjects do."""
    subject = words[:length]
    return subject if not subject.endswith(" ") else subject[:-1] + "s"


def _faults(raw: bytes, subject: str) -> list[str]:
    """What is wrong with the folding of a serialized message, line by line."""
    faults = []
    for line in raw.decode("ascii").split("\r\n"):
        if BARE_NAME.fullmatch(line):
            faults.append(f"folded right after the field name: {line!r}")
        # List-Unsubscribe is never folded (EMAIL-STANDARDS section 0, item 2).
        if len(line) > WIDTH and not line.startswith("List-Unsubscribe:"):
            faults.append(f"{len(line)} characters: {line!r}")
        if line[:1] in (" ", "\t") and not line.strip():
            faults.append("a continuation line of whitespace only")
    message = message_from_bytes(raw, policy=default_policy)
    if message["Subject"] != subject:
        faults.append(f"the Subject reads back as {message['Subject']!r}")
    if subject.isascii():
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        # Folded at whitespace only: unfolding gives back the subject, unencoded.
        if f"\nSubject: {subject}\r\n" not in re.sub(r"\r\n(?=[ \t])", "", head):
            faults.append("the Subject was not folded at whitespace only")
    return faults


def _composed(subject: str) -> bytes:
    """A lifecycle email with this subject, as the email package builds it."""
    message = build_message(
        Rendered(subject, "Text.\n", "<p>HTML.</p>"),
        sender="CSP news <news@csp-news.localhost>",
        to="reader@example.org",
        now=NOW,
        message_id="<0123456789abcdef0123456789abcdef@csp-news.localhost>",
        reply_to="CSP news team <team@csp-news.localhost>",
        headers=list_headers(
            list_id="CSP news <news.csp-news.localhost>",
            unsubscribe_url="https://news.example.gov.uk/unsubscribe/" + "t" * 90,
            unsubscribe_mailto="mailto:unsubscribe@csp-news.localhost?subject=unsubscribe",
            feedback_id="welcome:lifecycle:news:cspnews",
        ),
    )
    return serialise(message)


def _filled(settings: MailSettings, subject: str) -> bytes:
    """An alert with this subject, laid out once and filled in as the worker does."""
    proto = run_prototype(
        Rendered(subject, "Text.\n", "<p>HTML.</p>"), settings, Frequency.IMMEDIATE, Marks.new()
    )
    filler = Filler(
        manage_token=lambda *_: "m" * 90,
        unsubscribe_token=lambda *_: "u" * 90,
        date="Wed, 25 Nov 2026 09:30:00 +0000",
    )
    return filler.fill(proto, Recipient("reader@example.org", 1, 0)).data


def test_subjects_of_60_to_120_characters_fold_at_whitespace_within_78_characters():
    faults = {
        (words.isascii(), length): found
        for words in (WORDS, ACCENTED)
        for length in LENGTHS
        if (found := _faults(_composed(subject := _subject(words, length)), subject))
    }
    assert faults == {}


def test_every_header_of_an_alert_copy_folds_the_same_way(app):
    app.config["MAIL_REPLY_TO"] = "CSP news team <team@csp-news.localhost>"
    with app.app_context():
        settings = MailSettings.from_config(app.config)
        faults = {
            (words.isascii(), length): found
            for words in (WORDS, ACCENTED)
            for length in LENGTHS
            if (found := _faults(_filled(settings, subject := _subject(words, length)), subject))
        }
    assert faults == {}
