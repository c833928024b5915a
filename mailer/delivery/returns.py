"""What mail coming back says: DSN, other bounces, ARF, unsubscribe (the return paths it
comes back to are in `mailer.delivery.verp`).

Pure functions over the bytes received; the database is left to `mailer.domain.bounces`.
Everything received is treated as hostile: parsing never raises, and what cannot be read
becomes an UNREADABLE outcome that the caller keeps for staff.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from dataclasses import replace
from email import message_from_bytes
from email.errors import HeaderParseError
from email.header import decode_header
from email.header import make_header
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses

from flufl.bounce import all_failures

from mailer.delivery.verp import InboxAddresses
from mailer.delivery.verp import Mailbox
from mailer.delivery.verp import bare_address
from mailer.delivery.verp import read_verp_address
from mailer.delivery.verp import return_path_in
from mailer.verp_tokens import ReturnPath

logger = logging.getLogger(__name__)

# RFC 3463 status codes, "5.1.1": not inside a dotted number such as an IP address or a version.
STATUS = re.compile(r"(?<![\d.])([245])\.([0-7])\.(\d{1,3})(?![\d.])")
# The basic reply code at the start of an SMTP reply ("550 ...", "552-...").
REPLY_CODE = re.compile(r"(?<!\d)([245])\d\d[ -]")
UNSUBSCRIBE_SUBJECT = re.compile(r"unsubscribe\s+([A-Za-z0-9_.\-]{10,400})", re.IGNORECASE)
# RFC 5965 feedback types that are a person's complaint; auth-failure (RFC 6591) and
# not-spam (RFC 6650) are not.
COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus", "other"})
# Gmail answers 5.2.1 both for a disabled account and for one that receives too fast.
INACTIVE = re.compile(r"inactive|disabled|deactivated|suspended", re.IGNORECASE)
# The words of delay warnings that are not DSNs (Exim, Postfix and sendmail notices); flufl.bounce
# reads Exim's as a permanent failure, since it opens like Exim's bounces.
DELAY_WARNING = re.compile(
    r"has not yet been delivered|no action is required on your part|warning (message )?only|"
    r"do not need to resend|still being retried|delivery attempts will continue",
    re.IGNORECASE,
)
AUTO_REPLY_SUBJECT = re.compile(r"(auto(matic)? ?(reply|response)|out of (the )?office)\b", re.I)
TEXT_LIMIT = 65536


class Verdict(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    # Refused for our message (authentication, content, size), not the address: never
    # suppresses, but staff must look.
    POLICY = "policy"
    # Delay notices, successful or relayed DSNs, auto-replies: nothing to do.
    IGNORED = "ignored"
    UNREADABLE = "unreadable"


# Which of several failures in one report counts: the worst.
SEVERITY = {Verdict.HARD: 3, Verdict.SOFT: 2, Verdict.POLICY: 1, Verdict.IGNORED: 0}


@dataclass(frozen=True)
class Inbound:
    """One message as the inbox received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    # The IP address of the client that delivered it.
    peer: str = ""


@dataclass(frozen=True)
class Outcome:
    """What one received message means for one delivery or subscriber."""

    verdict: Verdict
    # The delivery a return path names.
    delivery_id: int | None = None
    # Addresses the report names: for staff to read, never to act on (anyone can write one).
    addresses: tuple[str, ...] = ()
    # The Message-ID of our original, for complaints that name no delivery.
    message_id: str = ""
    status: str = ""
    diagnostic: str = ""
    token: str = ""
    problem: str = ""
    # The key that return path carries; None in the old form, which names the id alone.
    return_key: str | None = None


def classify_status(status: str, diagnostic: str = "") -> Verdict:
    """Say what a failure with an RFC 3463 status code means for the address."""
    match = STATUS.search(status)
    if not match:
        return Verdict.UNREADABLE
    klass, subject, detail = match.groups()
    code = f"{klass}.{subject}.{detail}"
    if klass == "2":
        return Verdict.IGNORED
    # Security and policy (x.7.x), content (5.6.x) and size (5.3.4) refuse our message.
    if subject == "7" or (klass == "5" and subject == "6") or code == "5.3.4":
        return Verdict.POLICY
    if klass == "4" or code in ("5.2.2", "5.4.7"):
        return Verdict.SOFT
    if code == "5.2.1" and not INACTIVE.search(diagnostic):
        return Verdict.SOFT
    return Verdict.HARD


def classify(inbound: Inbound, addresses: InboxAddresses) -> list[Outcome]:
    """Say what a received message means, one outcome per recipient it reached (needs the
    app context for the VERP keys); never raises."""
    try:
        message = message_from_bytes(inbound.content, policy=compat32)
        return _classify(message, inbound.rcpt_tos, addresses)
    # The input is hostile and the email package and the bounce detectors raise many
    # kinds of error on broken MIME; the message is kept, with the reason, not dropped.
    except Exception as error:
        logger.warning("cannot parse inbound message", exc_info=True)
        return [Outcome(Verdict.UNREADABLE, problem=f"cannot parse: {_describe(error)}")]


def _classify(
    message: Message, rcpt_tos: tuple[str, ...], addresses: InboxAddresses
) -> list[Outcome]:
    """Classify a parsed message for each distinct recipient."""
    boxes = {bare_address(rcpt).lower(): addresses.mailbox(rcpt) for rcpt in rcpt_tos}
    if not boxes:
        return [Outcome(Verdict.UNREADABLE, problem="no recipient")]
    if _part(message, "message/feedback-report") is not None:
        verp = [a for a, box in boxes.items() if box is Mailbox.BOUNCES]
        path = read_verp_address(verp[0], domain=addresses.bounce_domain) if verp else None
        return [_complaint(message, path, addresses.bounce_domain)]
    outcomes = []
    for address, box in boxes.items():
        if box is Mailbox.BOUNCES:
            path = read_verp_address(address, domain=addresses.bounce_domain)
            outcome = _bounce(message, path.delivery_id)
            outcomes.append(replace(outcome, return_key=path.key))
        elif box is Mailbox.UNSUBSCRIBE:
            outcomes.append(_unsubscribe(message))
        else:
            outcomes.append(Outcome(Verdict.UNREADABLE, problem=f"mail to {box.value} address"))
    return outcomes


def _bounce(message: Message, delivery_id: int) -> Outcome:
    """What a message to the VERP address of one delivery says about it."""
    part = _part(message, "message/delivery-status")
    blocks = _blocks(part) if part is not None else []
    reports = [_report(block, delivery_id) for block in blocks if "action" in block]
    if not reports:
        return _plain_bounce(message, delivery_id)
    failed = [report for report in reports if report.verdict is not Verdict.IGNORED]
    if not failed:
        actions = ", ".join(sorted({report.problem for report in reports}))
        return Outcome(Verdict.IGNORED, delivery_id, problem=f"status report: {actions}")
    worst = max(failed, key=lambda report: SEVERITY[report.verdict])
    return replace(worst, addresses=tuple(a for report in failed for a in report.addresses))


def _plain_bounce(message: Message, delivery_id: int) -> Outcome:
    """Read a bounce that is not a DSN (Exim, qmail and others) with flufl.bounce."""
    text = _notice_text(message)[:TEXT_LIMIT]
    if DELAY_WARNING.search(text) or DELAY_WARNING.search(_subject(message)):
        return Outcome(Verdict.IGNORED, delivery_id, problem="delay warning")
    try:
        temporary, permanent = all_failures(message)
    # flufl.bounce re-raises whatever one of its detectors raises: its Yale detector, for
    # one, fails with IndexError on a single-part message without From.
    except Exception as error:
        problem = f"bounce detectors failed: {_describe(error)}"
        return Outcome(Verdict.UNREADABLE, delivery_id, problem=problem)
    if permanent:
        found = tuple(sorted(address.decode("ascii") for address in permanent))
        status, diagnostic = _status_in_text(text)
        verdict = classify_status(status, diagnostic) if status else Verdict.HARD
        return Outcome(verdict, delivery_id, found, status=status, diagnostic=diagnostic)
    # flufl.bounce's temporary failures are warnings that delivery is still being tried.
    if temporary:
        return Outcome(Verdict.IGNORED, delivery_id, problem="delay warning")
    if _is_auto_reply(message):
        return Outcome(Verdict.IGNORED, delivery_id, problem="auto-reply")
    return Outcome(Verdict.UNREADABLE, delivery_id, problem="no failed recipient found")


def _report(block: Message, delivery_id: int) -> Outcome:
    """Read Action, Status, the recipient and Diagnostic-Code of one per-recipient block of a
    delivery-status part (RFC 3464 2.3); the action goes in `problem`."""
    action = _header(block, "Action").lower().split(" ", 1)[0]
    diagnostic = _clean(_typed(_header(block, "Diagnostic-Code")), 1000)
    status = _status(_header(block, "Status"), diagnostic)
    named = _header(block, "Original-Recipient") or _header(block, "Final-Recipient")
    recipient = _clean(bare_address(_typed(named)), 320)
    # RFC 3464 Appendix C: never act on "delayed"; delivered, relayed and expanded are news.
    verdict = Verdict.IGNORED
    if action.startswith(("fail", "error")):
        verdict = classify_status(status, diagnostic)
        verdict = Verdict.HARD if verdict is Verdict.UNREADABLE else verdict
    return Outcome(
        verdict,
        delivery_id,
        (recipient,) if recipient else (),
        status=status,
        diagnostic=diagnostic,
        problem=action or "no action",
    )


def _status(status: str, diagnostic: str) -> str:
    """The status code of a block: the Status field, unless it is vague (x.0.0) or missing and
    the remote server's reply says more."""
    given = STATUS.search(status)
    said = STATUS.search(diagnostic)
    if given and (not said or not given.group(0).endswith(".0.0")):
        return given.group(0)
    if said:
        return said.group(0)
    reply = REPLY_CODE.search(diagnostic)
    return f"{reply.group(1)}.0.0" if reply else ""


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status part, however the parser left them."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = str(payload).replace("\r\n", "\n")
    return [HeaderParser().parsestr(chunk) for chunk in re.split(r"\n\s*\n", text) if chunk]


def _complaint(message: Message, path: ReturnPath | None, bounce_domain: str) -> Outcome:
    """Read an ARF report (RFC 5965): its type, and which of our emails it is about."""
    fields = _first_block(_part(message, "message/feedback-report"))
    kind = _header(fields, "Feedback-Type").strip().lower()
    if kind not in COMPLAINT_TYPES:
        problem = f"feedback report: {kind or '?'}"
        return Outcome(Verdict.IGNORED, path.delivery_id if path else None, problem=problem)
    original = _original_headers(message)
    if path is None:
        path = return_path_in(
            [_header(fields, "Original-Mail-From"), _header(original, "Return-Path")],
            bounce_domain,
        )
    named = [
        *fields.get_all("Original-Rcpt-To", []),
        *fields.get_all("Removal-Recipient", []),
        *original.get_all("To", []),
    ]
    agent = _clean(_header(fields, "User-Agent"), 200)
    return Outcome(
        Verdict.COMPLAINT,
        path.delivery_id if path else None,
        return_key=path.key if path else None,
        addresses=tuple(address for _, address in getaddresses([str(n) for n in named]) if address),
        message_id=_clean(_header(original, "Message-ID"), 255),
        diagnostic=f"Feedback-Type: {kind}; User-Agent: {agent}",
    )


def _original_headers(message: Message) -> Message:
    """The headers of the reported message: a message/rfc822 or text/rfc822-headers part."""
    attached = _part(message, "message/rfc822")
    if attached is not None:
        return _first_block(attached)
    headers = _part(message, "text/rfc822-headers")
    if headers is None:
        return Message()
    return HeaderParser().parsestr(_decoded_text(headers))


def _unsubscribe(message: Message) -> Outcome:
    """Read the token of an "unsubscribe TOKEN" subject (the mailto: of List-Unsubscribe)."""
    subject = _subject(message)
    match = UNSUBSCRIBE_SUBJECT.fullmatch(subject.strip())
    if match is None:
        return Outcome(Verdict.UNREADABLE, problem="unsubscribe mail without a token subject")
    return Outcome(Verdict.UNSUBSCRIBE, token=match.group(1))


def _is_auto_reply(message: Message) -> bool:
    """Whether a message says it is an automatic answer (RFC 3834 and common practice)."""
    submitted = _header(message, "Auto-Submitted").strip().lower()
    precedence = _header(message, "Precedence").strip().lower()
    return (
        (submitted not in ("", "no"))
        or precedence in ("auto_reply", "bulk", "junk")
        or any(message.get(name) for name in ("X-Autoreply", "X-Autorespond"))
        or bool(AUTO_REPLY_SUBJECT.match(_subject(message)))
    )


def _status_in_text(text: str) -> tuple[str, str]:
    """The first status code in a bounce's text, and the line it is on."""
    match = STATUS.search(text)
    if match is None:
        return "", ""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    return match.group(0), _clean(text[start : end if end != -1 else None], 1000)


def _notice_text(part: Message) -> str:
    """The human-readable text of a bounce, without the returned message it may attach."""
    if part.get_content_maintype() == "message":
        return ""
    if part.is_multipart():
        subparts = part.get_payload()
        return "\n".join(_notice_text(sub) for sub in subparts if isinstance(sub, Message))
    return _decoded_text(part) if part.get_content_type() == "text/plain" else ""


def _decoded_text(part: Message) -> str:
    """A text part's body, decoded leniently."""
    body = part.get_payload(decode=True)
    if not isinstance(body, bytes):
        return ""
    charset = part.get_content_charset() or "ascii"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("ascii", errors="replace")


def _part(message: Message, content_type: str) -> Message | None:
    """The first part of a type, anywhere in the message."""
    return next((p for p in message.walk() if p.get_content_type() == content_type), None)


def _first_block(part: Message | None) -> Message:
    """The message a message/* part holds (empty when it holds nothing)."""
    payload = part.get_payload() if part is not None else None
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser().parsestr(payload) if isinstance(payload, str) else Message()


def _subject(message: Message) -> str:
    """The Subject, RFC 2047 words decoded where they can be."""
    raw = _header(message, "Subject")
    try:
        return _clean(str(make_header(decode_header(raw))), 1000)
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return _clean(raw, 1000)


def _header(message: Message, name: str) -> str:
    """A header's value as text ('' when absent); raw bytes come back as U+FFFD."""
    value = message.get(name)
    return "" if value is None else str(value)


def _typed(value: str) -> str:
    """The value of an RFC 3464 typed field ("rfc822; someone@example.org"), type left off."""
    kind, semicolon, rest = value.partition(";")
    return rest if semicolon else kind


def _clean(text: str, limit: int) -> str:
    """Text safe to store: one line, no control characters or lone surrogates, cut to `limit`."""
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())[:limit]


def _describe(error: Exception) -> str:
    return _clean(f"{type(error).__name__}: {error}", 300)
