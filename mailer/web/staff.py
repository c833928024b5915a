"""The staff area: login, news editing, previews, API keys, staff accounts, audit log."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
