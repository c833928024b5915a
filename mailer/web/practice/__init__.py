"""Effective practice: the public library of case studies, and submitting one."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("practice", __name__, url_prefix="/effective-practice")

from mailer.web.practice import attachments  # noqa: E402,F401  (adds its routes to bp)
from mailer.web.practice import submit  # noqa: E402,F401  (adds its routes to bp)
