"""The JSON API's topics: list, read, add, change and retire (a child of the API blueprint,
so its key check and error handlers apply)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import request
from flask import url_for

from mailer import clock
from mailer.database import transaction
from mailer.domain import topics
from mailer.domain.topic_reports import TopicSummary
from mailer.domain.topic_reports import all_summaries
from mailer.domain.topic_reports import summarise
from mailer.domain.topic_retirement import retire_topic
from mailer.domain.topics import TopicTaken
from mailer.errors import FieldErrors
from mailer.errors import json_error
from mailer.models import Topic
from mailer.web.api import schema as api_schema
from mailer.web.api.schema import RequestError

bp = Blueprint("topics", __name__, url_prefix="/topics")

CREATE_FIELDS = frozenset({"name", "description", "slug", "heading"})
CHANGE_FIELDS = CREATE_FIELDS | {"position"}
RETIRE_FIELDS = frozenset({"move_to", "tell"})
# More positions than topics put the topic last.
MAX_POSITION = 10_000


@bp.get("")
def list_topics() -> dict[str, Any]:
    """Every topic in display order, retired ones last (`?retired=false` leaves them out)."""
    retired = request.args.get("retired", "true")
    if retired not in ("true", "false"):
        raise RequestError(
            400,
            "invalid_query",
            "Check the query",
            fields={"retired": "retired must be true or false"},
        )
    summaries = all_summaries(include_retired=retired == "true")
    return {"items": [topic_json(summary) for summary in _display_order(summaries)]}


@bp.get("/<slug>")
def get_topic(slug: str) -> dict[str, Any]:
    """One topic, retired or not."""
    return _json_of(_topic_or_404(slug))


@bp.post("")
def create_topic() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Add a topic at the end of the list."""
    data = api_schema.read_object(required=True)
    _refuse_unknown(data, CREATE_FIELDS)
    with transaction():
        fields = topics.validate_topic(
            name=data.get("name"),
            description=data.get("description"),
            slug=data.get("slug"),
            heading=data.get("heading"),
        )
        topic = topics.create_topic(fields, actor=g.api_actor, now=clock.now())
    location = _base_url() + url_for("api.topics.get_topic", slug=topic.slug)
    return _json_of(topic), 201, {"Location": location}


@bp.patch("/<slug>")
def update_topic(slug: str) -> dict[str, Any]:
    """Change some of a topic's name, description, heading, slug and position."""
    data = api_schema.read_object(required=True)
    _refuse_unknown(data, CHANGE_FIELDS)
    position = _position(data)
    with transaction():
        topic = _topic_or_404(slug, lock=True)
        fields = topics.validate_topic(
            name=data.get("name", topic.name),
            description=data.get("description", topic.description),
            slug=data.get("slug", topic.slug),
            heading=data.get("heading", topic.heading),
            current=topic,
        )
        now = clock.now()
        topics.update_topic(topic, fields, actor=g.api_actor, now=now)
        if position is not None:
            topics.place_topic(topic, position, actor=g.api_actor, now=now)
    return _json_of(topic)


@bp.post("/<slug>/retire")
def retire(slug: str) -> dict[str, Any]:
    """Retire a topic, moving its subscribers to `move_to` and telling them if `tell`."""
    data = api_schema.read_object(required=False)
    _refuse_unknown(data, RETIRE_FIELDS)
    tell = data.get("tell", False)
    move_slug = data.get("move_to")
    errors = {}
    if not isinstance(tell, bool):
        errors["tell"] = "tell must be true or false"
    move_to = None
    if move_slug is not None:
        move_to = topics.topic_by_slug(move_slug) if isinstance(move_slug, str) else None
        if move_to is None:
            errors["move_to"] = "move_to must be the slug of a current topic"
    with transaction():
        topic = _topic_or_404(slug, lock=True)
        if errors:
            raise FieldErrors(errors)
        try:
            retire_topic(topic, move_to=move_to, tell=tell, actor=g.api_actor, now=clock.now())
        except FieldErrors as error:
            # A well-formed move_to that names this topic or a retired one: the topics' state,
            # not the request, stands in the way.
            raise RequestError(
                409, "state_conflict", "Choose another topic", fields=error.errors
            ) from None
    return _json_of(topic)


@bp.errorhandler(TopicTaken)
def _taken(error: TopicTaken) -> Response:
    return json_error(409, "taken", "Another topic has this name or slug", fields=error.errors)


def topic_json(summary: TopicSummary) -> dict[str, Any]:
    """A topic as the API shows it, with its active subscribers and its latest news."""
    topic = summary.topic
    return {
        "slug": topic.slug,
        "name": topic.name,
        "description": topic.description,
        "heading": topic.heading,
        "position": topic.position,
        "url": _base_url() + url_for("news.topic", slug=topic.slug),
        "subscribers": summary.subscribers,
        "subscribers_by_frequency": {
            frequency.value: count for frequency, count in summary.by_frequency.items()
        },
        "retired_at": _iso(topic.retired_at),
        "successor": summary.successor.slug if summary.successor else None,
        "last_item_at": _iso(summary.last_item_at),
    }


def _display_order(summaries: list[TopicSummary]) -> list[TopicSummary]:
    return sorted(summaries, key=lambda s: (s.topic.retired_at is not None, s.topic.position))


def _json_of(topic: Topic) -> dict[str, Any]:
    return topic_json(summarise([topic])[0])


def _position(data: dict[str, Any]) -> int | None:
    if "position" not in data:
        return None
    value = data["position"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POSITION:
        raise FieldErrors(
            {"position": f"position must be a whole number from 0 to {MAX_POSITION:,}"}
        )
    return value


def _refuse_unknown(data: dict[str, Any], allowed: frozenset[str]) -> None:
    """Refuse fields the operation does not take, and text fields that are not text."""
    errors = {name: "Unknown field" for name in data if name not in allowed}
    for name in CREATE_FIELDS & allowed:
        if name in data and not isinstance(data[name], str):
            errors[name] = f"{name.capitalize()} must be text"
    if data.get("slug") == "":
        errors["slug"] = "Slug must not be empty: leave it out to keep it or make one from the name"
    if errors:
        raise FieldErrors(errors)


def _topic_or_404(slug: str, *, lock: bool = False) -> Topic:
    found = topics.topic_by_slug(slug, lock=lock)
    if found is None:
        raise RequestError(404, "not_found", f"There is no topic {slug}")
    return found


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _base_url() -> str:
    return str(current_app.config["BASE_URL"])
