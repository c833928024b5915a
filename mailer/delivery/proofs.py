"""Test copies of a bulletin for the staff who write it: built as the worker builds a reader's
copy, signed with the service's DKIM keys and sent over the configured SMTP relay, but to a
member of staff and recorded as no delivery to any subscriber."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mailer.delivery.dkim import DkimKeyError
from mailer.delivery.dkim import Signer
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_bulletin
from mailer.delivery.smtp import Connection
from mailer.delivery.smtp import DeliveryError
from mailer.delivery.smtp import SmtpSettings
from mailer.models import Bulletin
from mailer.models import NewsItem


class CopyNotSent(Exception):
    """The relay did not take the test, or it could not be signed; the message says why."""


def send_test(
    bulletin: Bulletin,
    items: list[NewsItem],
    *,
    to: str,
    config: Mapping[str, Any],
    now: datetime,
) -> str:
    """Send one test copy of `bulletin` to `to` now; return its Message-ID. Call it after the
    transaction that records the test has committed.

    :raises CopyNotSent: the relay refused it or could not be reached, or signing failed.
    """
    settings = MailSettings.from_config(config)
    try:
        outgoing = compose_bulletin(bulletin, items, to=to, settings=settings, now=now, test=True)
        signer = Signer.from_config(config)
        data = signer.sign(outgoing.data) if signer else outgoing.data
        with Connection(SmtpSettings.from_config(config)) as connection:
            connection.send(outgoing.envelope_from, to, data)
    except (DeliveryError, DkimKeyError, ValueError) as error:
        raise CopyNotSent(str(error)) from None
    return outgoing.message_id
