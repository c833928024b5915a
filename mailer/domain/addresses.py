"""Email addresses as people type them: checked and normalised (syntax only, no DNS)."""

from __future__ import annotations

from email_validator import EmailNotValidError
from email_validator import validate_email

from mailer.errors import InvalidInput
from mailer.i18n import N_

MAX_ADDRESS_LENGTH = 254


def normalise_address(raw: str) -> str:
    """Return the normalised form of an address, or raise InvalidInput (syntax only, no DNS)."""
    value = raw.strip()
    if not value:
        raise InvalidInput("email", N_("Enter your email address"))
    if len(value) > MAX_ADDRESS_LENGTH:
        raise InvalidInput("email", N_("Email address must be 254 characters or fewer"))
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise InvalidInput(
            "email", N_("Enter an email address in the correct format, like name@example.com")
        ) from None
    # Internationalised domains are kept in their ASCII (IDNA) form, which every SMTP server
    # accepts; the local part is ASCII already (SMTPUTF8 addresses are refused above).
    return str(result.ascii_email or result.normalized)
