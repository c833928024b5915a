"""Corrections anyone can suggest for a partnership's entry, kept for staff, never published."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from mailer.domain import audit
from mailer.domain.subscriptions import normalise_address
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.i18n import N_
from mailer.models import Csp
from mailer.models import CspSuggestion
from mailer.models import SuggestionStatus

MAX_TEXT = 1000
# Control characters other than tab and newline; a carriage return is dropped with them.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def parse_suggestion(form: Mapping[str, str]) -> tuple[str, str, str]:
    """What is wrong, the correction and the suggester's address ("" if none), checked.

    :raises FieldErrors: a message for each bad field.
    """
    errors: dict[str, str] = {}
    texts = {}
    missing = {"problem": N_("Enter what is wrong"), "correction": N_("Enter the correction")}
    for name, label in (("problem", "what is wrong"), ("correction", "the correction")):
        value = CONTROL.sub("", str(form.get(name, ""))).strip()
        if not value:
            errors[name] = missing[name]
        elif len(value) > MAX_TEXT:
            errors[name] = f"{label.capitalize()} must be {MAX_TEXT:,} characters or fewer"
        texts[name] = value
    email = str(form.get("email", "")).strip()
    if email:
        try:
            email = normalise_address(email)
        except InvalidInput as error:
            errors["email"] = error.message
    if errors:
        raise FieldErrors(errors)
    return texts["problem"], texts["correction"], email


def add_suggestion(
    csp: Csp, problem: str, correction: str, email: str, *, now: datetime
) -> CspSuggestion:
    """Keep a suggestion for staff to review; nothing on the entry changes."""
    suggestion = CspSuggestion(
        csp=csp,
        problem=problem,
        correction=correction,
        email=email,
        status=SuggestionStatus.PENDING,
        created_at=now,
    )
    db.session.add(suggestion)
    audit.record("public", "suggest_csp_correction", suggestion, now=now, detail={"csp": csp.code})
    return suggestion


def pending_suggestions(*, csp: Csp | None = None) -> Sequence[CspSuggestion]:
    """Suggestions waiting for staff, oldest first."""
    statement = select(CspSuggestion).where(CspSuggestion.status == SuggestionStatus.PENDING)
    if csp is not None:
        statement = statement.where(CspSuggestion.csp_id == csp.id)
    return db.session.scalars(statement.order_by(CspSuggestion.id)).all()


def suggestion_by_id(suggestion_id: int) -> CspSuggestion | None:
    return db.session.get(CspSuggestion, suggestion_id)


def decide_suggestion(
    suggestion: CspSuggestion, *, approved: bool, actor: str, now: datetime
) -> None:
    """Mark a suggestion approved (staff made the change by editing) or rejected.

    :raises Conflict: it was decided already.
    """
    if suggestion.status is not SuggestionStatus.PENDING:
        raise Conflict(f"This suggestion was {suggestion.status.value} already")
    suggestion.status = SuggestionStatus.APPROVED if approved else SuggestionStatus.REJECTED
    suggestion.decided_at, suggestion.decided_by = now, actor[:400]
    action = "approve_csp_suggestion" if approved else "reject_csp_suggestion"
    audit.record(actor, action, suggestion, now=now, detail={"csp": suggestion.csp.code})
