"""The language of a subscriber's emails: English or Welsh, chosen on the form they signed
up on and changed on the manage page."""

from __future__ import annotations

from mailer.errors import InvalidInput
from mailer.i18n import LANGUAGES
from mailer.models import Subscriber


def set_language(subscriber: Subscriber, language: str | None) -> None:
    """Send the subscriber's emails in `language` from now on (None leaves it as it is).

    :raises InvalidInput: not a language the emails are written in.
    """
    if language is None:
        return
    if language not in LANGUAGES:
        raise InvalidInput("language", "Select the language you want emails in")
    subscriber.language = language
