"""Render once, send to many: each distinct message is rendered and laid out once, and every
recipient's own parts (To, Date, Message-ID, links, List-Unsubscribe) are filled in as bytes.

Building an EmailMessage per recipient costs far more than sending it, so the MIME layout is
written here directly: the static headers come from the email package (so encoded words and
folding follow policy.SMTP), the two parts are quoted-printable from binascii (lines of at most
76 characters, CRLF), and the boundary holds "=", which quoted-printable never leaves bare.
Tests parse the result with the email package and compare it with the rendered text.
"""

from __future__ import annotations

import re
import secrets
import uuid
from binascii import b2a_qp
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from mailer.delivery.compose import AUTO_SUBMITTED
from mailer.delivery.compose import LIST_UNSUBSCRIBE
from mailer.delivery.compose import MAIL_POLICY
from mailer.delivery.compose import MAX_LINE
from mailer.delivery.compose import Outgoing
from mailer.delivery.compose import Rendered
from mailer.delivery.compose import list_headers
from mailer.delivery.compose import list_unsubscribe
from mailer.delivery.compose import recipient_header
from mailer.delivery.compose import unsubscribe_mailto
from mailer.tokens import MANAGE_MARK_PREFIX
from mailer.tokens import UNSUBSCRIBE_MARK_PREFIX
from mailer.tokens import new_message_id

# A dot-atom address needs no quoting in a header (RFC 5322 3.2.3).
_PLAIN_ADDRESS = re.compile(
    rb"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9.-]+"
)
CRLF = b"\r\n"
# RFC 2045 section 6.7: encoded lines are at most 76 characters.
MAX_QP_LINE = 76
_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_BARE_EOL = re.compile(rb"\r(?!\n)|(?<!\r)\n")
_HEAD_FIELDS = {
    b"From",
    b"Subject",
    b"Reply-To",
    b"List-Id",
    b"List-Unsubscribe-Post",
    b"Feedback-ID",
    b"Auto-Submitted",
    b"Content-Language",
    b"MIME-Version",
}


@dataclass(frozen=True)
class Marks:
    """Where each recipient's link tokens go in one rendered message: letters and digits only,
    so no escaping, CSS inlining or line wrapping can touch them, with a random part made for
    this message alone, so no text an editor wrote can hold them."""

    manage: str
    unsubscribe: str

    @classmethod
    def new(cls) -> Marks:
        nonce = secrets.token_hex(16)
        return cls(f"{MANAGE_MARK_PREFIX}{nonce}Zq9", f"{UNSUBSCRIBE_MARK_PREFIX}{nonce}Zq9")

    def links(self, base_url: str) -> dict[str, str]:
        """The manage and unsubscribe links to render into the shared message."""
        return {
            "manage_url": f"{base_url}/manage/{self.manage}",
            "unsubscribe_url": f"{base_url}/unsubscribe/{self.unsubscribe}",
        }


@dataclass(frozen=True)
class Prototype:
    """One distinct message, laid out once; `fill` makes each recipient's copy."""

    envelope_from: str
    domain: str
    head: bytes
    text: tuple[Piece, ...]
    html: tuple[Piece, ...]
    boundary: bytes
    unsubscribe_url: str
    unsubscribe_address: str
    # The marks of `Marks`, as bytes: the only places filled in.
    manage_mark: bytes
    unsubscribe_mark: bytes

    def body_size(self) -> int:
        """Bytes of the two encoded parts, about what each copy weighs."""
        blank = {self.manage_mark: b"", self.unsubscribe_mark: b""}
        return len(_fill_in(self.text, blank)) + len(_fill_in(self.html, blank))


def prototype(
    rendered: Rendered,
    *,
    marks: Marks,
    sender: str,
    reply_to: str | None,
    list_id: str,
    base_url: str,
    unsubscribe_address: str,
    feedback_id: str,
) -> Prototype:
    """Lay out a rendered message whose links carry `marks` (rendered from `marks.links`)."""
    shared = list_headers(list_id=list_id, feedback_id=feedback_id)
    head, envelope_from = _head(rendered, sender, reply_to, shared)
    boundary = f"=_{uuid.uuid4().hex}=".encode()
    manage_mark, unsubscribe_mark = marks.manage.encode(), marks.unsubscribe.encode()
    found = re.compile(b"(" + re.escape(manage_mark) + b"|" + re.escape(unsubscribe_mark) + b")")
    return Prototype(
        envelope_from=envelope_from,
        domain=envelope_from.rpartition("@")[2] or "localhost",
        head=head,
        text=_segments(rendered.text, found),
        html=_segments(rendered.html, found),
        boundary=boundary,
        unsubscribe_url=f"{base_url}/unsubscribe/",
        unsubscribe_address=unsubscribe_address,
        manage_mark=manage_mark,
        unsubscribe_mark=unsubscribe_mark,
    )


def _head(
    rendered: Rendered, sender: str, reply_to: str | None, shared: dict[str, str]
) -> tuple[bytes, str]:
    """The header fields every copy has alike, written by the email package (so encoded words
    and folding follow policy), and the sender's address. `shared` holds the list headers but
    List-Unsubscribe, which each copy adds with its reader's token.

    :raises ValueError: a field would hold a line break.
    """
    static = EmailMessage(policy=MAIL_POLICY)
    static["From"] = sender
    static["Subject"] = rendered.subject
    if reply_to:
        static["Reply-To"] = reply_to
    for name, value in shared.items():
        static[name] = value
    static["Auto-Submitted"] = AUTO_SUBMITTED
    static["Content-Language"] = rendered.language
    static["MIME-Version"] = "1.0"
    head = static.as_bytes(policy=MAIL_POLICY).rstrip(CRLF) + CRLF
    # CPython before 3.11.10 (CVE-2024-6923) writes an encoded word that decodes to CR or LF
    # ("=?utf-8?q?=0D=0A...?=" in a news title) as a raw line break: refuse any head whose
    # fields are not the ones set above.
    fields = [line.split(b":", 1)[0] for line in head.split(CRLF)[:-1] if line[:1] not in b" \t"]
    if _BARE_EOL.search(head) or len(fields) != len(static) or set(fields) - _HEAD_FIELDS:
        raise ValueError("a header of the message would hold a line break")
    return head, str(static["From"].addresses[0].addr_spec)


# A part of a body, laid out: encoded lines as they are sent, or one line holding marks, split
# at them (literal, mark, literal, ...), to be filled in and encoded per recipient.
Piece = bytes | tuple[bytes, ...]


def _segments(body: str, marks: re.Pattern[bytes]) -> tuple[Piece, ...]:
    """Encode a body quoted-printable once, line by line, leaving the lines with marks to be
    filled in; CRLF line ends. Encoding is per line, so the result is byte for byte what
    encoding each filled-in body whole would give."""
    # Only CR and LF end lines in mail; str.splitlines would also break at U+2028 and others.
    pieces: list[Piece] = []
    plain: list[bytes] = []
    for line in _LINE_ENDS.split(body.rstrip("\r\n")):
        raw = line.encode()
        if marks.search(raw):
            if plain:
                pieces.append(_qp(b"".join(plain)))
                plain = []
            pieces.append(tuple(marks.split(raw)))
        else:
            plain.append(raw + CRLF)
    if plain:
        pieces.append(_qp(b"".join(plain)))
    return tuple(pieces)


def _qp(data: bytes) -> bytes:
    """Quoted-printable of CRLF-ended lines: at most 76 characters a line, soft breaks CRLF
    too (binascii takes the line end it first sees). binascii writes 77 when a 75-character
    line ends in an encoded space ("=20"): such a line gets one more soft break."""
    encoded = b2a_qp(data, quotetabs=False, istext=True, header=False)
    return CRLF.join(
        line[:-3] + b"=" + CRLF + line[-3:] if len(line) > MAX_QP_LINE else line
        for line in encoded.split(CRLF)
    )


def _fill_in(pieces: tuple[Piece, ...], values: dict[bytes, bytes]) -> bytes:
    """The encoded body for one recipient: each mark replaced by its value."""
    out = []
    for piece in pieces:
        if isinstance(piece, bytes):
            out.append(piece)
            continue
        line = list(piece)
        for index in range(1, len(line), 2):
            line[index] = values[line[index]]
        line.append(CRLF)
        out.append(_qp(b"".join(line)))
    return b"".join(out)


@dataclass(frozen=True)
class Recipient:
    """Who one copy is for: the address and what their link tokens are made of."""

    email: str
    subscriber_id: int
    token_version: int


class Filler:
    """Makes each recipient's copy of a prototype; one per batch (it holds the Date)."""

    def __init__(
        self,
        *,
        manage_token: Callable[[int, int], str],
        unsubscribe_token: Callable[[int, int], str],
        date: str,
    ) -> None:
        self.manage_token = manage_token
        self.unsubscribe_token = unsubscribe_token
        self.date = f"Date: {date}\r\n".encode()

    def fill(self, proto: Prototype, recipient: Recipient) -> Outgoing:
        """Return the bytes of `proto` for one recipient.

        :raises ValueError: the address cannot be written in a header.
        """
        manage = self.manage_token(recipient.subscriber_id, recipient.token_version)
        unsubscribe = self.unsubscribe_token(recipient.subscriber_id, recipient.token_version)
        values = {proto.manage_mark: manage.encode(), proto.unsubscribe_mark: unsubscribe.encode()}
        message_id = new_message_id(proto.domain)
        value = list_unsubscribe(
            proto.unsubscribe_url + unsubscribe,
            unsubscribe_mailto(proto.unsubscribe_address, unsubscribe),
        )
        unsubscribe_header = f"{LIST_UNSUBSCRIBE}: {value}\r\n".encode()
        if len(unsubscribe_header) - len(CRLF) > MAX_LINE:
            raise ValueError("List-Unsubscribe is longer than a header line may be")
        boundary = proto.boundary
        data = b"".join(
            (
                _to_header(recipient.email),
                proto.head,
                self.date,
                b"Message-ID: ",
                message_id.encode(),
                CRLF,
                unsubscribe_header,
                # Folded after the parameter separator, as the email package does: one line
                # would be 83 characters.
                b'Content-Type: multipart/alternative;\r\n boundary="',
                boundary,
                b'"\r\n\r\n--',
                boundary,
                b'\r\nContent-Type: text/plain; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                _fill_in(proto.text, values),
                b"\r\n--",
                boundary,
                b'\r\nContent-Type: text/html; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                _fill_in(proto.html, values),
                b"\r\n--",
                boundary,
                b"--\r\n",
            )
        )
        return Outgoing(proto.envelope_from, recipient.email, data, message_id)


def _to_header(address: str) -> bytes:
    """The To header of one address; a plain address is written as it is, quickly."""
    raw = address.encode("ascii", "replace")
    if address.isascii() and _PLAIN_ADDRESS.fullmatch(raw):
        return b"To: " + raw + CRLF
    return MAIL_POLICY.fold_binary("To", recipient_header(address))
