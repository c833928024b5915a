"""Development only: read the local outbox Maildir, so links in emails can be clicked."""

from __future__ import annotations

import email
import mailbox
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from markupsafe import Markup
from markupsafe import escape

from mailer.paths import open_outbox
from mailer.web.security import shows_email

bp = Blueprint("outbox", __name__, url_prefix="/outbox")

URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Kept:
    """One message as the outbox keeps it."""

    key: str
    message: EmailMessage

    @property
    def sort_key(self) -> float:
        date = self.message["Date"]
        try:
            return parsedate_to_datetime(str(date)).timestamp() if date else 0.0
        except (TypeError, ValueError):
            return 0.0

    def body(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        return None if part is None else str(part.get_content())


def _maildir() -> mailbox.Maildir:
    return open_outbox(current_app.config["OUTBOX_DIR"])


def _load(box: mailbox.Maildir, key: str) -> Kept:
    raw = box.get_bytes(key)
    message = email.message_from_bytes(raw, policy=default_policy)
    if not isinstance(message, EmailMessage):
        abort(404)
    return Kept(key, message)


def linkify(text: str) -> Markup:
    """Escape plain text and turn its URLs into links."""
    escaped = str(escape(text))
    return Markup(URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))  # noqa: S704


@bp.get("/")
def index() -> str:
    """List the messages in the outbox, newest first."""
    box = _maildir()
    kept = sorted((_load(box, key) for key in box.keys()), key=lambda k: k.sort_key, reverse=True)
    return render_template("outbox/index.html", messages=kept)


@bp.get("/<key>")
@shows_email
def show(key: str) -> str:
    """Show one message: its headers, its text part with live links, its HTML part."""
    box = _maildir()
    if key not in box:
        abort(404)
    kept = _load(box, key)
    return render_template(
        "outbox/show.html",
        kept=kept,
        text=kept.body("plain"),
        html=kept.body("html"),
        linkify=linkify,
    )
