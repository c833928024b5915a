"""A partnership's contact details: checking them, changing them, confirming them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from mailer.domain import audit
from mailer.domain.subscriptions import normalise_address
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.i18n import N_
from mailer.models import Csp

MAX_PHONE = 40
MAX_WEB = 300
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,38}")
WEB_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")


@dataclass(frozen=True)
class Contact:
    """How to reach a partnership: a role mailbox, a phone number, a web page; each may be ""."""

    email: str = ""
    phone: str = ""
    web: str = ""


def contact_of(csp: Csp) -> Contact:
    return Contact(csp.email, csp.phone, csp.web)


def parse_contact(form: Mapping[str, str]) -> Contact:
    """The contact details of a form, checked.

    :raises FieldErrors: a message for each bad field.
    """
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, check in (("email", _email), ("phone", _phone), ("web", _web)):
        try:
            values[name] = check(str(form.get(name, "")).strip())
        except InvalidInput as error:
            errors[name] = error.message
    if errors:
        raise FieldErrors(errors)
    return Contact(**values)


def _email(value: str) -> str:
    if not value:
        return ""
    try:
        return normalise_address(value)
    except InvalidInput as error:
        raise InvalidInput("email", error.message.replace("your email", "an email")) from None


def _phone(value: str) -> str:
    if value and not PHONE.fullmatch(value):
        raise InvalidInput(
            "phone", N_("Enter a phone number, like 020 7946 0000 or +44 20 7946 0000")
        )
    return value


def _web(value: str) -> str:
    if not value:
        return ""
    parts = urlsplit(value) if value.isprintable() and " " not in value else None
    if (
        len(value) > MAX_WEB
        or parts is None
        or parts.scheme not in ("http", "https")
        or not WEB_HOST.fullmatch(parts.netloc)
    ):
        raise InvalidInput(
            "web",
            N_(
                "Enter a web address that starts with https:// or http://, "
                "like https://example.gov.uk/csp"
            ),
        )
    return value


def update_contact(
    csp: Csp, contact: Contact, *, confirmed: bool, actor: str, now: datetime
) -> bool:
    """Set the partnership's contact details, and if `confirmed` note that they were confirmed
    today; record who did it. Returns whether anything changed."""
    before = contact_of(csp)
    changed = before != contact
    if changed:
        csp.email, csp.phone, csp.web = contact.email, contact.phone, contact.web
    if confirmed:
        csp.last_confirmed = now.date()
    if changed or confirmed:
        csp.updated_at = now
        detail = {"before": asdict(before), "after": asdict(contact), "confirmed": confirmed}
        audit.record(actor, "edit_csp_contact", csp, now=now, detail=detail)
    return changed
