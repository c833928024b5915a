"""The admins' topic pages: the list with counts, adding, editing, ordering and retiring."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import topics
from mailer.domain import welsh_content
from mailer.domain.topic_reports import all_summaries
from mailer.domain.topic_reports import summarise
from mailer.domain.topic_retirement import news_waiting
from mailer.domain.topic_retirement import retire_topic
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.models import Topic
from mailer.web.staff.auth import admin_only
from mailer.web.staff.auth import current_actor

bp = Blueprint("topics", __name__)

# What happens to the subscribers of a topic being retired.
FATES = ("move", "tell", "neither")


@bp.get("/topics")
@admin_only
def topic_list() -> str:
    """Every topic under its heading, with its subscribers and latest news."""
    summaries = all_summaries()
    current = [s for s in summaries if s.topic.retired_at is None]
    groups: dict[str, list[Any]] = {}
    for summary in current:
        groups.setdefault(summary.topic.heading, []).append(summary)
    retired = [s for s in summaries if s.topic.retired_at is not None]
    return render_template("staff/topics.html", groups=list(groups.items()), retired=retired)


@bp.route("/topics/new", methods=["GET", "POST"])
@admin_only
def add_topic() -> Any:
    """The form to add a topic; on POST add it."""
    if request.method != "POST":
        return _form(MultiDict(), {})
    try:
        with transaction():
            fields, welsh = _read_fields(request.form)
            topic = topics.create_topic(fields, actor=current_actor(), now=clock.now())
            welsh_content.apply(topic, welsh)
    except FieldErrors as error:
        return _form(request.form, error.errors)
    flash(f"Added the topic {topic.name}")
    return redirect(url_for(".topic_list"))


@bp.route("/topics/<slug>/edit", methods=["GET", "POST"])
@admin_only
def edit_topic(slug: str) -> Any:
    """The form to change a topic; on POST change it."""
    topic = _topic_or_404(slug, lock=request.method == "POST")
    if request.method != "POST":
        return _form(_filled(topic), {}, topic=topic)
    try:
        with transaction():
            fields, welsh = _read_fields(request.form, current=topic)
            topics.update_topic(topic, fields, actor=current_actor(), now=clock.now())
            welsh_content.apply(topic, welsh)
    except FieldErrors as error:
        return _form(request.form, error.errors, topic=topic)
    except Conflict as error:
        return _form(request.form, {"slug": _sentence(str(error))}, topic=topic)
    flash(f"Saved the topic {topic.name}")
    return redirect(url_for(".topic_list"))


@bp.post("/topics/<slug>/move")
@admin_only
def move_topic(slug: str) -> Response:
    """Move a topic up or down among the topics under its heading."""
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    with transaction():
        topic = _topic_or_404(slug, lock=True)
        topics.move_topic(topic, up=direction == "up", actor=current_actor(), now=clock.now())
    flash(f"Moved {topic.name} {direction}")
    return redirect(url_for(".topic_list", _anchor=f"topic-{topic.slug}"))


@bp.route("/topics/<slug>/retire", methods=["GET", "POST"])
@admin_only
def retire(slug: str) -> Any:
    """Check what to do with a topic's subscribers, confirm, then retire it."""
    topic = _topic_or_404(slug, lock=request.method == "POST")
    if topic.retired_at is not None:
        abort(409, f"{topic.name} has already been retired.")
    if request.method != "POST":
        return _retire_page(topic, MultiDict(), {})
    errors, move_to = _read_fate(request.form, topic)
    if errors:
        return _retire_page(topic, request.form, errors)
    if request.form.get("confirmed") != "yes":
        return _retire_page(topic, request.form, {}, confirm=True, move_to=move_to)
    with transaction():
        done = retire_topic(
            topic,
            move_to=move_to,
            tell=request.form.get("fate") == "tell" or request.form.get("also_tell") == "yes",
            actor=current_actor(),
            now=clock.now(),
        )
    flash(_retired_message(topic, move_to, done.moved, done.told))
    return redirect(url_for(".topic_list"))


def _retired_message(topic: Topic, move_to: Topic | None, moved: int, told: int) -> str:
    words = [f"Retired {topic.name}."]
    if move_to is not None:
        words.append(f"Moved {moved:,} {'subscriber' if moved == 1 else 'subscribers'}")
        words.append(f"to {move_to.name}.")
    if told:
        words.append(f"Queued {told:,} {'email' if told == 1 else 'emails'} to say it has ended.")
    return " ".join(words)


def _read_fate(form: MultiDict[str, str], topic: Topic) -> tuple[dict[str, str], Topic | None]:
    """Check the retire form: what to do with the subscribers, and where to move them."""
    fate = form.get("fate")
    if fate not in FATES:
        return {"fate": "Choose what happens to the subscribers"}, None
    if fate != "move":
        return {}, None
    chosen = topics.topic_by_slug(form.get("move_to", ""))
    if chosen is None or chosen.retired_at is not None or chosen.id == topic.id:
        return {"move_to": "Choose the topic to move the subscribers to"}, None
    return {}, chosen


def _retire_page(
    topic: Topic,
    form: MultiDict[str, str],
    errors: dict[str, str],
    *,
    confirm: bool = False,
    move_to: Topic | None = None,
) -> tuple[str, int]:
    page = render_template(
        "staff/topic_retire.html",
        summary=summarise([topic])[0],
        others=[other for other in topics.list_topics() if other.id != topic.id],
        form=form,
        errors=errors,
        confirm=confirm,
        move_to=move_to,
        waiting=news_waiting(topic),
    )
    return page, 400 if errors else 200


def _read_fields(
    form: MultiDict[str, str], current: Topic | None = None
) -> tuple[topics.TopicFields, dict[str, str]]:
    """The topic and its Welsh name and description, with every error at once."""
    errors: dict[str, str] = {}
    fields = None
    welsh: dict[str, str] = {}
    try:
        fields = topics.validate_topic(
            name=form.get("name"),
            description=form.get("description"),
            slug=form.get("slug"),
            heading=form.get("heading"),
            current=current,
        )
    except FieldErrors as error:
        errors.update(error.errors)
    try:
        welsh = welsh_content.validate(form, welsh_content.TOPIC_FIELDS)
    except FieldErrors as error:
        errors.update(error.errors)
    if errors or fields is None:
        raise FieldErrors(errors)
    return fields, welsh


def _filled(topic: Topic) -> MultiDict[str, str]:
    return MultiDict(
        {
            "name": topic.name,
            "description": topic.description,
            "slug": topic.slug,
            "heading": topic.heading,
            **dict(welsh_content.form_pairs(topic)),
        }
    )


def _form(
    form: MultiDict[str, str], errors: dict[str, str], *, topic: Topic | None = None
) -> tuple[str, int]:
    headings = sorted({t.heading for t in topics.list_topics(include_retired=True) if t.heading})
    used = topics.ever_used(topic) if topic is not None else False
    page = render_template(
        "staff/topic_form.html",
        form=form,
        errors=errors,
        topic=topic,
        headings=headings,
        slug_fixed=used,
    )
    return page, 400 if errors else 200


def _sentence(reason: str) -> str:
    return f"{reason[:1].upper()}{reason[1:]}"


def _topic_or_404(slug: str, *, lock: bool = False) -> Topic:
    found = topics.topic_by_slug(slug, lock=lock)
    if found is None:
        abort(404)
    return found
