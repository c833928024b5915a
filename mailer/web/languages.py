"""The question of the manage page: which language a subscriber wants their emails in."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from mailer.i18n import LANGUAGES


def read_language(form: MultiDict[str, str]) -> tuple[str | None, dict[str, str]]:
    """The language the form asks for, or None when the form does not ask (left as it is),
    and the error of an answer that is not one of the choices."""
    if "language" not in form:
        return None, {}
    value = form.get("language", "")
    if value not in LANGUAGES:
        return None, {"language": str(_l("Select the language you want emails in"))}
    return value, {}
