"""Emails sent at once, one at a time, while a member of staff waits: invitations to the staff
area and test copies of a bulletin. They go over the configured relay, DKIM-signed like every
email, and are not deliveries of the queue (no subscriber gets them), so that the member of
staff sees at once whether the relay took them; the caller records them before and after."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mailer.delivery.compose import Outgoing
from mailer.delivery.compose import render_email
from mailer.delivery.dkim import DkimKeyError
from mailer.delivery.dkim import Signer
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_bulletin
from mailer.delivery.messages import outgoing_to
from mailer.delivery.smtp import Connection
from mailer.delivery.smtp import DeliveryError
from mailer.delivery.smtp import SmtpSettings
from mailer.models import Bulletin
from mailer.models import NewsItem


class NotSent(Exception):
    """The relay did not take the email, or it could not be signed; the message says why."""


def compose_invitation(
    *, to: str, link: str, role: str, invited_by: str, settings: MailSettings, now: datetime
) -> Outgoing:
    """The invitation to the staff area: the link where the person sets a password."""
    rendered = render_email(
        "staff_invite",
        {
            "link": link,
            "role": role,
            "invited_by": invited_by,
            "base_url": settings.base_url,
            "postal_address": settings.postal_address,
        },
    )
    return outgoing_to(rendered, to, settings, {}, now=now)


def send_test(
    bulletin: Bulletin,
    items: list[NewsItem],
    *,
    to: str,
    config: Mapping[str, Any],
    now: datetime,
) -> str:
    """Send one test copy of `bulletin` to `to`, built as a reader's copy is, now; return its
    Message-ID. Call it after the transaction that records the test has committed.

    :raises NotSent: the relay refused it or could not be reached, or signing failed.
    """
    settings = MailSettings.from_config(config)
    try:
        outgoing = compose_bulletin(bulletin, items, to=to, settings=settings, now=now, test=True)
    except ValueError as error:
        raise NotSent(str(error)) from None
    return send_now(outgoing, config=config)


def send_now(outgoing: Outgoing, *, config: Mapping[str, Any]) -> str:
    """Sign `outgoing` and send it over the relay now; return its Message-ID.

    :raises NotSent: the relay refused it or could not be reached, or signing failed.
    """
    try:
        signer = Signer.from_config(config)
        data = signer.sign(outgoing.data) if signer else outgoing.data
        with Connection(SmtpSettings.from_config(config)) as connection:
            connection.send(outgoing.envelope_from, outgoing.recipient, data)
    except (DeliveryError, DkimKeyError, ValueError) as error:
        raise NotSent(str(error)) from None
    return outgoing.message_id
