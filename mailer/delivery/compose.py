"""Build emails: render the templates, set the headers, serialise to the bytes that are sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from email.utils import parseaddr
from typing import Any
from urllib.parse import quote

import css_inline
from flask import current_app
from flask_babel import force_locale

from mailer import tokens

# Headers whose value must reach the receiver exactly as written: RFC 2369 ignores a
# List-Unsubscribe that does not start with "<", and the email package would otherwise
# encode a long one as an RFC 2047 encoded-word.
UNFOLDED_HEADERS = frozenset(
    {"list-unsubscribe", "list-unsubscribe-post", "list-id", "list-help", "feedback-id"}
)
LIST_UNSUBSCRIBE = "List-Unsubscribe"
# The Auto-Submitted value of mail that a program sends on its own (RFC 3834 section 5).
AUTO_SUBMITTED = "auto-generated"
# RFC 5322 section 2.1.1: no line may be longer than 998 characters.
MAX_LINE = 998


class MailPolicy(EmailPolicy):
    """policy.SMTP with 76-character lines, headers refolded at whitespace and list headers
    left unfolded."""

    def fold(self, name: str, value: str) -> str:
        """Fold as usual, then refold at whitespace; list headers stay on one line."""
        if name.lower() in UNFOLDED_HEADERS:
            return _unfolded(name, str(value), self.linesep)
        return _refolded(str(super().fold(name, value)), self.linesep, self._width)

    def fold_binary(self, name: str, value: str) -> bytes:
        """Fold as usual, then refold at whitespace; list headers stay on one line."""
        if name.lower() in UNFOLDED_HEADERS:
            return _unfolded(name, str(value), self.linesep).encode("ascii")
        charset = "utf-8" if self.utf8 else "ascii"
        folded = super().fold_binary(name, value).decode(charset, "surrogateescape")
        refolded = _refolded(folded, self.linesep, self._width)
        return refolded.encode(charset, "surrogateescape")

    @property
    def _width(self) -> int:
        """The longest header line wanted, CRLF not counted."""
        return self.max_line_length or MAX_LINE


# Where a header may be folded: before a run of spaces or tabs that has text on both sides.
_FOLD_POINT = re.compile(r"(?<=[^ \t])[ \t]+(?=[^ \t])")


def _refolded(folded: str, linesep: str, width: int) -> str:
    """Refold a header the email package folded as a careful MTA would (RFC 5322 2.1.1):
    break only before whitespace the field already has, fill each line up to `width`, and
    keep the start of the value on the line of the field name.

    CPython puts a value that fits on a line of its own (an ASCII Subject of 68 to 75
    characters) on the line after a bare "Subject:". Unfolding gives back exactly the value
    the email package wrote, so nothing it encoded or quoted changes.
    """
    unfolded = re.sub(f"{re.escape(linesep)}(?=[ \t])", "", folded.removesuffix(linesep))
    if "\r" in unfolded or "\n" in unfolded:
        # Not a header as the email package writes one: leave it for the caller's checks.
        return folded
    points = [match.start() for match in _FOLD_POINT.finditer(unfolded, unfolded.find(":") + 2)]
    lines = []
    start = last = 0
    for point in [*points, len(unfolded)]:
        if point - start > width and last > start:
            lines.append(unfolded[start:last])
            start = last
        last = point
    lines.append(unfolded[start:])
    return linesep.join(lines) + linesep


def _unfolded(name: str, value: str, linesep: str) -> str:
    """Write a header on one line, breaking only after commas if it would pass 998 characters."""
    if any(char in value for char in "\r\n\0"):
        raise ValueError(f"{name} may not contain line breaks")
    line = f"{name}: {value}"
    if len(line) > MAX_LINE:
        parts = (part.strip() for part in value.split(","))
        line = f"{name}: " + f",{linesep} ".join(parts)
        if any(len(folded) > MAX_LINE for folded in line.split(linesep)):
            raise ValueError(f"{name} has a part longer than {MAX_LINE} characters")
    return line + linesep


# RFC 2045 section 6.7: encoded lines are at most 76 characters (the stdlib writes 78).
MAIL_POLICY = MailPolicy(linesep="\r\n", max_line_length=76)


@dataclass(frozen=True)
class Rendered:
    """A rendered email: subject, text part and HTML part (CSS inlined)."""

    subject: str
    text: str
    html: str
    # Its language, "en" or "cy": the Content-Language of the message (RFC 3282).
    language: str = "en"


@dataclass(frozen=True)
class Outgoing:
    """A message ready for SMTP: envelope and the exact bytes to send."""

    envelope_from: str
    recipient: str
    data: bytes
    message_id: str


_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


def render_email(name: str, context: dict[str, Any], language: str = "en") -> Rendered:
    """Render templates/email/NAME.txt (with its subject block) and NAME.html, in `language`."""
    env = current_app.jinja_env
    context = {"language": language, **context}
    with force_locale(language):
        text_template = env.get_template(f"email/{name}.txt")
        subject_block = text_template.blocks["subject"]
        subject = "".join(subject_block(text_template.new_context(context)))
        html = env.get_template(f"email/{name}.html").render(context)
        text = text_template.render(context).strip() + "\n"
    return Rendered(
        subject=" ".join(subject.split()),
        text=text,
        html=_INLINER.inline(html),
        language=language,
    )


def list_headers(
    *,
    list_id: str,
    feedback_id: str,
    unsubscribe_url: str | None = None,
    unsubscribe_mailto: str | None = None,
) -> dict[str, str]:
    """Return the bulk-mail headers every list message carries (RFC 2369, 2919, 8058, and
    the Feedback-ID by which Gmail's feedback loop groups complaints), in the order they are
    written. Without the unsubscribe URL and mailto: (a message laid out once for many
    readers), List-Unsubscribe, which names one reader, is left for each copy to add."""
    headers = {"List-Id": list_id}
    if unsubscribe_url is not None or unsubscribe_mailto is not None:
        if unsubscribe_url is None or unsubscribe_mailto is None:
            raise ValueError("List-Unsubscribe needs both the URL and the mailto: URI")
        headers[LIST_UNSUBSCRIBE] = list_unsubscribe(unsubscribe_url, unsubscribe_mailto)
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    headers["Feedback-ID"] = feedback_id
    return headers


def list_unsubscribe(unsubscribe_url: str, unsubscribe_mailto: str) -> str:
    """The List-Unsubscribe value: the one-click URL first, then the mailto: URI."""
    return f"<{unsubscribe_url}>, <{unsubscribe_mailto}>"


def feedback_id(campaign: str, kind: str, sender: str) -> str:
    """A Feedback-ID (campaign:kind:list:sender); the same for every copy of a message."""
    return f"{campaign}:{kind}:news:{sender}"


def unsubscribe_mailto(address: str, token: str) -> str:
    """Return the mailto: URI that unsubscribes the holder of `token` by email."""
    # The token's characters need no quoting: quoting the space apart is quote()'s fast path.
    return f"mailto:{address}?subject=unsubscribe%20{quote(token)}"


def build_message(
    rendered: Rendered,
    *,
    sender: str,
    to: str,
    now: datetime,
    message_id: str,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """Build a multipart/alternative message, text first and HTML last (RFC 2046 5.1.4)."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    if reply_to:
        message["Reply-To"] = reply_to
    # A program writes every email this service sends, so none should get a vacation or
    # other automatic reply (RFC 3834 sections 2 and 5).
    message["Auto-Submitted"] = AUTO_SUBMITTED
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    # After the parts: setting content drops the Content-* headers set before it.
    message["Content-Language"] = rendered.language
    return message


def new_message_id(sender: str) -> str:
    """Return a fresh, unguessable Message-ID on the sender's domain (never the host's name),
    like every other email's: email.utils.make_msgid draws from `random`, whose next values
    can be worked out from earlier ones, and a complaint quoting a guessed id would name
    its reader."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return tokens.new_message_id(domain)


def recipient_header(address: str) -> str:
    """Return a To header value for an address, refusing anything but a bare address."""
    return str(Address(addr_spec=address))


def serialise(message: EmailMessage) -> bytes:
    """Return the exact bytes to send: CRLF line ends, list headers unfolded."""
    return message.as_bytes(policy=MAIL_POLICY)
