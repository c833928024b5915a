"""Public news pages and Atom feeds."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("news", __name__)
