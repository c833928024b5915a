"""Which addresses reach one mailbox, for limits that must not be dodged by writing an
address another way."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import or_

from mailer.database import escape_like
from mailer.models import Subscriber


def same_mailbox(email_key: str) -> ColumnElement[bool]:
    """Which subscribers' addresses reach the mailbox of `email_key` (a case-folded address):
    it, and it with a +tag added, changed or taken away, since almost every provider delivers
    name+anything@ to name@. Dots and other local rules differ from one provider to another,
    so those addresses are left apart."""
    local, _, domain = email_key.rpartition("@")
    name = local.partition("+")[0]
    if not name or local.startswith('"'):
        return Subscriber.email_key == email_key
    tagged = f"{escape_like(name)}+%@{escape_like(domain)}"
    return or_(
        Subscriber.email_key == f"{name}@{domain}",
        Subscriber.email_key.like(tagged, escape="\\"),
    )
