"""The effective practice pages: the public library of case studies, each case study's page,
its feed, the form that relays a reader's message to a case study's contact, and
submitting a case study."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("practice", __name__, url_prefix="/effective-practice")

# The modules add their routes to bp.
from mailer.web.practice import attachments  # noqa: E402,F401
from mailer.web.practice import contact  # noqa: E402,F401
from mailer.web.practice import library  # noqa: E402,F401
from mailer.web.practice import submit  # noqa: E402,F401
