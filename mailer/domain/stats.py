"""Counts for the staff dashboard."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain.run_counts import email_counts
from mailer.extensions import db
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Subscriber
from mailer.models import SubscriberStatus


def _by(column: Any, states: type[enum.StrEnum]) -> dict[str, int]:
    """Count rows per state, listing every state (zero where there are none)."""
    rows = db.session.execute(select(column, func.count()).group_by(column)).all()
    found = {state.value if isinstance(state, enum.Enum) else str(state): n for state, n in rows}
    return {state.value: found.get(state.value, 0) for state in states}


def dashboard_counts() -> dict[str, dict[str, int]]:
    """Subscribers, news items and emails, each counted by state."""
    return {
        "subscribers": _by(Subscriber.status, SubscriberStatus),
        "news": _by(NewsItem.state, NewsState),
        "emails": email_counts(),
    }
