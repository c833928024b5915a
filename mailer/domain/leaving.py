"""Why people leave, if they choose to say: a fixed choice and a short comment, kept apart from
who gave them, and counted for staff."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from mailer.errors import FieldErrors
from mailer.extensions import db
from mailer.i18n import N_
from mailer.models import LeavingReason

# The choices of the form, in its order, and how staff read them.
REASONS = {
    "too_many": N_("Too many emails"),
    "not_relevant": N_("The news is not relevant to my work"),
    "changed_role": N_("I have changed role or organisation"),
    "never_signed_up": N_("I did not sign up"),
    "other": N_("Another reason"),
}
MAX_COMMENT = 1000


@dataclass(frozen=True)
class Report:
    """The reasons given since a day, most given first, and the latest comments."""

    since: datetime
    counts: list[tuple[str, int]]
    total: int
    comments: list[LeavingReason]


def record(reason: Any, comment: Any, *, now: datetime) -> None:
    """Keep one answer (flushes).

    :raises FieldErrors: no choice from the list, or a comment that is too long.
    """
    errors = {}
    if reason not in REASONS:
        errors["reason"] = N_("Select a reason")
    text = comment.strip() if isinstance(comment, str) else ""
    if len(text) > MAX_COMMENT:
        errors["comment"] = f"The comment must be {MAX_COMMENT:,} characters or fewer"
    if "\x00" in text:
        errors["comment"] = N_("The comment must be plain text")
    if errors:
        raise FieldErrors(errors)
    db.session.add(LeavingReason(reason=str(reason), comment=text, at=now))
    db.session.flush()


def report(*, now: datetime, days: int = 90, comments: int = 20) -> Report:
    """What people who left in the last `days` said."""
    since = now - timedelta(days=days)
    rows = db.session.execute(
        select(LeavingReason.reason, func.count())
        .where(LeavingReason.at >= since)
        .group_by(LeavingReason.reason)
    )
    counted = Counter({REASONS.get(reason, reason): int(count) for reason, count in rows})
    latest = db.session.scalars(
        select(LeavingReason)
        .where(LeavingReason.at >= since, LeavingReason.comment != "")
        .order_by(LeavingReason.at.desc(), LeavingReason.id.desc())
        .limit(comments)
    ).all()
    return Report(since, counted.most_common(), sum(counted.values()), list(latest))
