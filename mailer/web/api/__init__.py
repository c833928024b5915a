"""The JSON API, version 1: news items and bulletins, with bearer API keys."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException

from mailer import clock
from mailer.database import transaction
from mailer.domain import news
from mailer.domain import news_places
from mailer.domain import staff
from mailer.domain import welsh_content
from mailer.domain.audience import item_reach
from mailer.domain.periods import Schedule
from mailer.domain.segments import Segment
from mailer.domain.topics import list_topics
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.errors import conflict_json
from mailer.errors import http_error_json
from mailer.errors import json_error
from mailer.models import NewsItem
from mailer.web.api import bulletins as bulletins_api
from mailer.web.api import case_studies
from mailer.web.api import csps
from mailer.web.api import openapi
from mailer.web.api import schema as api_schema
from mailer.web.api import topics as topics_api
from mailer.web.api.schema import RequestError

logger = logging.getLogger(__name__)

T = TypeVar("T")
bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_blueprint(topics_api.bp)
bp.register_blueprint(bulletins_api.bp)
bp.register_blueprint(csps.bp)
bp.register_blueprint(case_studies.bp)

MAX_REQUEST_BYTES = 1024 * 1024
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document"})
# The CSP directory is public open data: anyone may read it without a key.
PUBLIC_BLUEPRINTS = frozenset({"api.csps", "api.case_studies"})


@bp.before_request
def _allow_the_longest_item() -> None:
    """Raise the body limit for API requests to 1 MiB.

    The site-wide limit is sized for forms; a JSON client may send every character of the
    longest body the domain allows as a six-byte "\\u" escape (backslash, u, four hex digits).
    """
    request.max_content_length = MAX_REQUEST_BYTES


@bp.before_request
def _authenticate() -> None:
    """Let through only requests with a current API key, and note when each key was used."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        return
    credentials = request.authorization
    if credentials is None or credentials.type != "bearer" or not credentials.token:
        raise RequestError(
            401,
            "missing_key",
            "Send an API key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = staff.find_api_key(credentials.token)
    if key is None:
        raise RequestError(
            401,
            "invalid_key",
            "This API key is not recognised",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if key.revoked_at is not None:
        raise RequestError(403, "revoked_key", "This API key has been revoked")
    g.api_actor = f"api:{key.id} {key.name}"
    g.api_key_owner = key.created_by_id
    with transaction():
        staff.record_key_use(key, now=clock.now())


@bp.after_request
def _never_cache(response: Response) -> Response:
    """Answers include drafts and change with every edit."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (no key needed)."""
    topics = [topic.slug for topic in list_topics(include_retired=True)]
    return openapi.build_document(base_url=_base_url(), topic_slugs=topics)


@bp.get("/news")
def list_items() -> dict[str, Any]:
    """News items in any state, most recently changed first, one page at a time."""
    query = api_schema.parse_list_query(request.args)
    page = news.items_page(
        page=query.page, per_page=query.per_page, state=query.state, topic=query.topic
    )
    return api_schema.page_json(page, base_url=_base_url())


@bp.post("/news")
def create_item() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Add an item as a draft, or publish or schedule it at once."""
    data, welsh_given = _without_welsh(api_schema.read_object(required=True))
    new, places = _with_places(lambda: api_schema.parse_new_item(data), data, welsh_given)
    now = clock.now()
    with transaction():
        item = news.create_item(new.draft, actor=g.api_actor, now=now)
        welsh_content.apply(item, _welsh(welsh_given))
        if places is not None:
            news_places.set_places(item, places, actor=g.api_actor, now=now)
        if new.publish:
            news.publish_item(
                item, actor=g.api_actor, now=now, at=new.publish_at, urgency=new.urgency
            )
    location = _base_url() + url_for("api.get_item", item_id=item.id)
    return _item_json(item), 201, {"Location": location}


@bp.get("/news/<int:item_id>")
def get_item(item_id: int) -> dict[str, Any]:
    """One item, in any state."""
    return _item_json(_item_or_404(item_id))


@bp.patch("/news/<int:item_id>")
def update_item(item_id: int) -> dict[str, Any]:
    """Change some of an item's title, summary, body and topics; its slug stays."""
    item = _item_or_404(item_id, lock=True)
    data, welsh_given = _without_welsh(api_schema.read_object(required=True))
    draft, places = _with_places(lambda: api_schema.parse_changes(data, item), data, welsh_given)
    with transaction():
        news.update_item(item, draft, actor=g.api_actor, now=clock.now())
        welsh_content.apply(item, _welsh(welsh_given, partial=True))
        if places is not None:
            news_places.set_places(item, places, actor=g.api_actor, now=clock.now())
    return _item_json(item)


def _without_welsh(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body without its Welsh texts (title_cy, summary_cy, body_cy), and those texts."""
    welsh = welsh_content.names(welsh_content.NEWS_FIELDS)
    return (
        {k: v for k, v in data.items() if k not in welsh},
        {k: v for k, v in data.items() if k in welsh},
    )


def _welsh(given: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
    """The checked Welsh texts (checked already by `_with_places`)."""
    return welsh_content.validate(given, welsh_content.NEWS_FIELDS, partial=partial)


def _with_places(
    parse: Callable[[], T], data: dict[str, Any], welsh: dict[str, Any]
) -> tuple[T, Segment | None]:
    """What `parse` reads, where the item applies (None when not given) and its Welsh texts,
    every error at once.

    :raises FieldErrors: a message per bad field.
    """
    errors: dict[str, str] = {}
    parsed = places = None
    try:
        parsed = parse()
    except FieldErrors as error:
        errors.update(error.errors)
    if "applies_to" in data:
        try:
            places = news_places.validate_places(data["applies_to"])
        except FieldErrors as error:
            errors.update(error.errors)
    try:
        welsh_content.validate(welsh, welsh_content.NEWS_FIELDS, partial=True)
    except FieldErrors as error:
        errors.update(error.errors)
    if errors or parsed is None:
        raise FieldErrors(errors)
    return parsed, places


@bp.post("/news/<int:item_id>/publish")
def publish_item(item_id: int) -> dict[str, Any]:
    """Publish an item now, or schedule it for a future `publish_at`; urgent news goes to
    every subscriber of its topics at once."""
    item = _item_or_404(item_id, lock=True)
    asked = api_schema.parse_publish(api_schema.read_object(required=False))
    with transaction():
        news.publish_item(
            item, actor=g.api_actor, now=clock.now(), at=asked.at, urgency=asked.urgency
        )
    return _item_json(item)


@bp.get("/news/<int:item_id>/audience")
def item_audience(item_id: int) -> dict[str, Any]:
    """Who the item would reach if published now (or at `publish_at`), urgent or not."""
    item = _item_or_404(item_id)
    asked = api_schema.parse_audience_query(request.args)
    reach = item_reach(
        [topic.id for topic in item.topics],
        urgent=asked.urgency.urgent,
        published_at=asked.at or clock.now(),
        schedule=Schedule.from_config(current_app.config),
        segment=news_places.places_of(item),
    )
    return api_schema.reach_json(reach)


@bp.post("/news/<int:item_id>/withdraw")
def withdraw_item(item_id: int) -> dict[str, Any]:
    """Take an item out of the site's lists and every digest not yet sent; its page and the
    feeds say when and why."""
    item = _item_or_404(item_id, lock=True)
    reason = api_schema.parse_withdraw(api_schema.read_object(required=True))
    with transaction():
        news.withdraw_item(item, reason=reason, actor=g.api_actor, now=clock.now())
    return _item_json(item)


@bp.errorhandler(RequestError)
def _request_error(error: RequestError) -> Response:
    response = json_error(error.status, error.code, error.message, fields=error.fields)
    response.headers.update(error.headers)
    return response


@bp.errorhandler(FieldErrors)
def _field_errors(error: FieldErrors) -> Response:
    return json_error(422, "invalid_fields", "Check the fields", fields=error.errors)


bp.register_error_handler(Conflict, conflict_json)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return http_error_json(error)


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return json_error(500, "internal_error", "Sorry, there is a problem with the service")


def _base_url() -> str:
    return str(current_app.config["BASE_URL"])


def _item_or_404(item_id: int, *, lock: bool = False) -> NewsItem:
    item = news.item_by_id(item_id, lock=lock)
    if item is None:
        raise RequestError(404, "not_found", f"There is no news item {item_id}")
    return item


def _item_json(item: NewsItem) -> dict[str, Any]:
    return api_schema.item_json(item, base_url=_base_url()) | welsh_content.as_json(item)
