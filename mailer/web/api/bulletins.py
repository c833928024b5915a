"""The JSON API of bulletins: write one, list them, send or schedule one, and approve one
under the two-person rule. A key made by a member of staff acts as that person."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import g
from flask import request
from flask import url_for

from mailer import clock
from mailer.database import transaction
from mailer.domain import bulletins
from mailer.domain import segments
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.errors import json_error
from mailer.models import Bulletin
from mailer.web.api import schema as api_schema
from mailer.web.api.schema import RequestError

bp = Blueprint("bulletins", __name__)

CREATE_FIELDS = frozenset({"subject", "body", "topics", "items", "public", "segment"})
SEND_FIELDS = frozenset({"at"})
TEXT_FIELDS = {
    "subject": (bulletins.MAX_SUBJECT, api_schema.LINE_PATTERN),
    "body": (bulletins.MAX_BODY, api_schema.BODY_PATTERN),
}


@bp.post("/bulletins")
def create_bulletin() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Write a draft bulletin; no topics means everyone."""
    content = _parse_new(api_schema.read_object(required=True))
    with transaction():
        bulletin = bulletins.create(content, actor=_actor(), now=clock.now())
    location = _base_url() + url_for("api.bulletins.get_bulletin", bulletin_id=bulletin.id)
    return _json(bulletin), 201, {"Location": location}


@bp.get("/bulletins")
def list_bulletins() -> dict[str, Any]:
    """Bulletins in any state, most recently changed first, one page at a time."""
    errors: dict[str, str] = {}
    page = api_schema._whole_number(
        errors, request.args, "page", default=1, limit=api_schema.MAX_PAGE
    )
    per_page = api_schema._whole_number(
        errors, request.args, "per_page", default=20, limit=api_schema.MAX_PER_PAGE
    )
    if errors:
        raise RequestError(400, "invalid_query", "Check the query parameters", fields=errors)
    found = bulletins.bulletins_page(page=page, per_page=per_page)
    return {
        "bulletins": [_json(bulletin) for bulletin in found.items],
        "page": found.page,
        "per_page": found.per_page,
        "total": found.total,
        "pages": found.pages,
    }


@bp.get("/bulletins/<int:bulletin_id>")
def get_bulletin(bulletin_id: int) -> dict[str, Any]:
    """One bulletin, in any state, with how many readers it reaches now."""
    return _json(_bulletin_or_404(bulletin_id))


@bp.post("/bulletins/<int:bulletin_id>/send")
def send_bulletin(bulletin_id: int) -> dict[str, Any]:
    """Send a bulletin now, or schedule it for a future `at`."""
    at = _parse_send(api_schema.read_object(required=False))
    bulletin = _bulletin_or_404(bulletin_id, lock=True)
    approval = bool(current_app.config["BULLETIN_APPROVAL_REQUIRED"])
    now = clock.now()
    with transaction():
        if at is None:
            bulletins.send_now(bulletin, actor=_actor(), now=now, approval=approval)
        else:
            bulletins.schedule(bulletin, at, actor=_actor(), now=now, approval=approval)
    return _json(bulletin)


@bp.post("/bulletins/<int:bulletin_id>/submit")
def submit_bulletin(bulletin_id: int) -> dict[str, Any]:
    """Ask another member of staff to approve a draft."""
    bulletin = _bulletin_or_404(bulletin_id, lock=True)
    with transaction():
        bulletins.submit(bulletin, actor=_actor(), now=clock.now())
    return _json(bulletin)


@bp.post("/bulletins/<int:bulletin_id>/approve")
def approve_bulletin(bulletin_id: int) -> dict[str, Any]:
    """Approve a bulletin someone else submitted."""
    bulletin = _bulletin_or_404(bulletin_id, lock=True)
    with transaction():
        bulletins.approve(bulletin, actor=_actor(), now=clock.now())
    return _json(bulletin)


@bp.errorhandler(InvalidInput)
def _invalid_input(error: InvalidInput) -> Any:
    fields = {error.field: error.message}
    return json_error(422, "invalid_fields", "Check the fields", fields=fields)


def _actor() -> str:
    """The key, and the member of staff who made it when there is one: the two-person rule
    counts people, so two keys of one person are one person."""
    owner = g.get("api_key_owner")
    return f"staff:{owner} ({g.api_actor})" if owner is not None else str(g.api_actor)


def _parse_new(data: dict[str, Any]) -> bulletins.Content:
    """Validate a create request, all errors at once.

    :raises FieldErrors: a message per bad field.
    """
    errors = {name: "Unknown field" for name in data if name not in CREATE_FIELDS}
    topics = data.get("topics")
    content = None
    try:
        content = bulletins.validate(
            subject=data.get("subject"),
            body=data.get("body", ""),
            everyone=topics == [],
            topic_slugs=topics,
            item_ids=data.get("items", []),
            public=data.get("public", True),
            segment=data.get("segment"),
        )
    except FieldErrors as error:
        errors.update(error.errors)
    for field, (limit, pattern) in TEXT_FIELDS.items():
        if field in data and (
            message := api_schema._raw_text_error(field, data[field], limit, pattern)
        ):
            errors[field] = message
    if errors or content is None:
        raise FieldErrors(errors)
    return content


def _parse_send(data: dict[str, Any]) -> datetime | None:
    """Read an optional RFC 3339 `at` with an offset, as UTC.

    :raises FieldErrors: it is not one, or there are other fields.
    """
    errors = {name: "Unknown field" for name in data if name not in SEND_FIELDS}
    value = data.get("at")
    parsed = None
    if value is not None:
        if isinstance(value, str) and re.fullmatch(api_schema.TIMESTAMP_PATTERN, value):
            try:
                parsed = datetime.fromisoformat(value.upper())
            except ValueError:
                parsed = None
        if parsed is None:
            errors["at"] = "Enter at as a date and time with an offset, like 2026-03-06T09:30:00Z"
        elif not api_schema.MIN_YEAR <= parsed.year <= api_schema.MAX_YEAR:
            errors["at"] = f"Enter at in the years {api_schema.MIN_YEAR} to {api_schema.MAX_YEAR}"
    if errors:
        raise FieldErrors(errors)
    return None if parsed is None else parsed.astimezone(UTC)


def _bulletin_or_404(bulletin_id: int, *, lock: bool = False) -> Bulletin:
    bulletin = bulletins.bulletin_by_id(bulletin_id, lock=lock)
    if bulletin is None:
        raise RequestError(404, "not_found", f"There is no bulletin {bulletin_id}")
    return bulletin


def _base_url() -> str:
    return str(current_app.config["BASE_URL"])


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(bulletin: Bulletin) -> dict[str, Any]:
    """The API's view of a bulletin: how many readers it reaches now, or, once sent, how many
    its run was enqueued for; its run; its archive page."""
    run = bulletins.run_of(bulletin)
    archived = bulletin.public and bulletin.sent_at is not None
    return {
        "id": bulletin.id,
        "slug": bulletin.slug,
        "state": bulletin.state.value,
        "subject": bulletin.subject,
        "body": bulletin.body_markdown,
        "everyone": bulletin.everyone,
        "topics": [topic.slug for topic in bulletin.topics],
        "items": [row.news_item_id for row in bulletin.items],
        "audience": run.recipients if run is not None else bulletins.audience_count(bulletin),
        "public": bulletin.public,
        "segment": segments.from_stored(bulletin.segment).to_json(),
        "send_at": _iso(bulletin.send_at),
        "sent_at": _iso(bulletin.sent_at),
        "submitted_by": bulletin.submitted_by,
        "approved_by": bulletin.approved_by,
        "run": run.id if run is not None else None,
        "url": f"{_base_url()}/bulletins/{bulletin.slug}" if archived else None,
    }
