"""The JSON API, version 1: news items, with bearer API keys."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
