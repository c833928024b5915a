"""What every email shares: the settings that shape it, and the message to one recipient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailer.delivery.compose import Outgoing
from mailer.delivery.compose import Rendered
from mailer.delivery.compose import build_message
from mailer.delivery.compose import new_message_id
from mailer.delivery.compose import recipient_header
from mailer.delivery.compose import serialise


@dataclass(frozen=True)
class MailSettings:
    """The settings that shape every email; built from the app config by the caller."""

    base_url: str
    mail_from: str
    reply_to: str | None
    list_id: str
    unsubscribe_address: str
    postal_address: str
    confirm_days: int
    manage_days: int
    data_copy_minutes: int = 60
    csp_days: int = 14
    case_study_days: int = 7
    zone: str = "Europe/London"
    digest_max_items: int = 20
    bounce_domain: str = "bounces.localhost"
    feedback_sender: str = "cspnews"
    contact_unit_email: str | None = None

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        """Read the mail settings from a Flask config mapping."""
        return cls(
            base_url=str(config["BASE_URL"]).rstrip("/"),
            mail_from=config["MAIL_FROM"],
            reply_to=config.get("MAIL_REPLY_TO"),
            list_id=config["LIST_ID"],
            unsubscribe_address=config["UNSUBSCRIBE_MAILTO"],
            postal_address=config["POSTAL_ADDRESS"],
            confirm_days=int(config["CONFIRM_TOKEN_MAX_AGE"]) // 86400,
            manage_days=int(config["MANAGE_TOKEN_MAX_AGE"]) // 86400,
            data_copy_minutes=int(config["DATA_COPY_TOKEN_MAX_AGE"]) // 60,
            csp_days=int(config["CSP_LINK_TOKEN_MAX_AGE"]) // 86400,
            case_study_days=int(config["CASE_STUDY_LINK_TOKEN_MAX_AGE"]) // 86400,
            zone=config["TIMEZONE"],
            digest_max_items=int(config["DIGEST_MAX_ITEMS"]),
            bounce_domain=config["BOUNCE_DOMAIN"],
            feedback_sender=config["FEEDBACK_ID_SENDER"],
            contact_unit_email=config.get("CONTACT_UNIT_EMAIL") or None,
        )


def outgoing_to(
    rendered: Rendered, to: str, settings: MailSettings, headers: dict[str, str], *, now: datetime
) -> Outgoing:
    """Build and serialise a message to one recipient."""
    message_id = new_message_id(settings.mail_from)
    message = build_message(
        rendered,
        sender=settings.mail_from,
        to=recipient_header(to),
        now=now,
        message_id=message_id,
        reply_to=settings.reply_to,
        headers=headers,
    )
    envelope_from = str(message["From"].addresses[0].addr_spec)
    return Outgoing(envelope_from, to, serialise(message), message_id)
