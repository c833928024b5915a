"""Staff pages for news: write, preview, schedule, check who will get it and publish, and
withdraw items."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict

from mailer import clock
from mailer.database import transaction
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_alert
from mailer.domain import audit
from mailer.domain import news
from mailer.domain import news_places
from mailer.domain import segments
from mailer.domain import welsh_content
from mailer.domain.audience import item_reach
from mailer.domain.periods import Schedule
from mailer.domain.segments import Segment
from mailer.domain.topics import list_topics
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Topic
from mailer.web.security import shows_email
from mailer.web.staff.auth import current_actor
from mailer.web.staff.schedule_form import scheduled_time

bp = Blueprint("news", __name__)


@bp.route("/news/new", methods=["GET", "POST"])
def new_item() -> Any:
    """Write a new draft."""
    if request.method != "POST":
        return _item_form(MultiDict(), {})
    try:
        with transaction():
            draft, places, welsh = _read_form()
            item = news.create_item(draft, actor=current_actor(), now=clock.now())
            welsh_content.apply(item, welsh)
            news_places.set_places(item, places, actor=current_actor(), now=clock.now())
    except FieldErrors as error:
        return _item_form(request.form, error.errors, status=400)
    flash("Draft saved")
    return redirect(url_for("staff.news.item", item_id=item.id))


@bp.route("/news/<int:item_id>/edit", methods=["GET", "POST"])
def edit_item(item_id: int) -> Any:
    """Change a draft, scheduled or published item."""
    item = _item_or_404(item_id, lock=request.method == "POST")
    if request.method != "POST":
        form = MultiDict(
            [("title", item.title), ("summary", item.summary), ("body", item.body_markdown)]
            + [("topics", topic.slug) for topic in item.topics]
            + segments.form_pairs(item.segment, prefix=news_places.FIELD)
            + welsh_content.form_pairs(item)
        )
        return _item_form(form, {}, item=item)
    try:
        with transaction():
            draft, places, welsh = _read_form(keep=item.topics)
            news.update_item(item, draft, actor=current_actor(), now=clock.now())
            welsh_content.apply(item, welsh)
            news_places.set_places(item, places, actor=current_actor(), now=clock.now())
    except FieldErrors as error:
        return _item_form(request.form, error.errors, status=400, item=item)
    flash("Changes saved")
    return redirect(url_for("staff.news.item", item_id=item.id))


@bp.get("/news/<int:item_id>")
def item(item_id: int) -> tuple[str, int]:
    """An item with its state, actions and history."""
    return _item_page(_item_or_404(item_id), {}, MultiDict())


@bp.get("/news/<int:item_id>/preview")
def preview_page(item_id: int) -> str:
    """The public page of the item as it will look, whatever its state."""
    return render_template("news/item.html", item=_item_or_404(item_id), preview=True)


@bp.get("/news/<int:item_id>/preview-email")
@shows_email
def preview_email(item_id: int) -> str:
    """The alert email exactly as an immediate subscriber would get it."""
    found = _item_or_404(item_id)
    settings = MailSettings.from_config(current_app.config)
    outgoing = compose_alert(
        found,
        to="subscriber@example.com",
        settings=settings,
        now=clock.now(),
    )
    message = email.message_from_bytes(outgoing.data, policy=email.policy.default)
    return render_template("staff/preview_email.html", item=found, message=message)


@bp.post("/news/<int:item_id>/publish")
def publish(item_id: int) -> Any:
    """Check who will get the item, then (once confirmed) publish it now, or schedule it when
    a date and time are given; urgent news goes to every reader at once."""
    found = _item_or_404(item_id, lock=True)
    try:
        at = _schedule_time(request.form)
        urgency = news.validate_urgency(
            request.form.get("urgent") == "yes", request.form.get("urgent_reason")
        )
    except InvalidInput as error:
        return _item_page(found, {error.field: error.message}, request.form, status=400)
    except FieldErrors as error:
        return _item_page(found, error.errors, request.form, status=400)
    if request.form.get("confirm") != "yes":
        reach = item_reach(
            [topic.id for topic in found.topics],
            urgent=urgency.urgent,
            published_at=at or clock.now(),
            schedule=Schedule.from_config(current_app.config),
            segment=news_places.places_of(found),
        )
        return render_template(
            "staff/publish_check.html",
            item=found,
            reach=reach,
            at=at,
            urgency=urgency,
            places=news_places.places_of(found),
        )
    with transaction():
        news.publish_item(found, actor=current_actor(), now=clock.now(), at=at, urgency=urgency)
    flash("Scheduled" if found.state is NewsState.SCHEDULED else "Published")
    return redirect(url_for("staff.news.item", item_id=found.id))


@bp.post("/news/<int:item_id>/withdraw")
def withdraw(item_id: int) -> Any:
    """Take an item out of the site's lists and every digest not yet sent, saying why on its
    page and in the feeds."""
    found = _item_or_404(item_id, lock=True)
    try:
        reason = news.validate_reason(request.form.get("reason"))
    except FieldErrors as error:
        return _item_page(found, error.errors, request.form, status=400)
    with transaction():
        news.withdraw_item(found, reason=reason, actor=current_actor(), now=clock.now())
    flash("Withdrawn")
    return redirect(url_for("staff.news.item", item_id=found.id))


def _item_page(
    found: NewsItem, errors: dict[str, str], form: MultiDict[str, str], *, status: int = 200
) -> tuple[str, int]:
    """The item's page with its actions, history, and what was wrong with a form on it."""
    page = render_template(
        "staff/item.html",
        item=found,
        history=audit.recent(target=found),
        errors=errors,
        form=form,
    )
    return page, status


def _item_or_404(item_id: int, *, lock: bool = False) -> NewsItem:
    found = news.item_by_id(item_id, lock=lock)
    if found is None:
        abort(404)
    return found


def _item_form(
    form: MultiDict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
    item: NewsItem | None = None,
) -> tuple[str, int]:
    # An item filed under a topic since retired keeps it, and can be taken off it.
    kept = [topic for topic in item.topics if topic.retired_at] if item else []
    page = render_template(
        "staff/item_form.html",
        form=form,
        errors=errors,
        item=item,
        topics=[*list_topics(), *kept],
        choices=segments.choices(),
    )
    return page, status


def _read_form(
    keep: Sequence[Topic] = (),
) -> tuple[news.Draft, Segment, dict[str, str]]:
    """The draft, where it applies and its Welsh texts, with every error at once.

    :raises FieldErrors: a message per bad field.
    """
    errors: dict[str, str] = {}
    draft = places = None
    try:
        draft = _draft_from_form(keep)
    except FieldErrors as error:
        errors.update(error.errors)
    given = segments.from_form(request.form, prefix=news_places.FIELD)
    try:
        places = news_places.validate_places(
            {name: given[name] for name in segments.PLACES}, sep="-"
        )
    except FieldErrors as error:
        errors.update(error.errors)
    welsh: dict[str, str] = {}
    try:
        welsh = welsh_content.validate(request.form, welsh_content.NEWS_FIELDS)
    except FieldErrors as error:
        errors.update(error.errors)
    if errors or draft is None or places is None:
        raise FieldErrors(errors)
    return draft, places, welsh


def _draft_from_form(keep: Sequence[Topic] = ()) -> news.Draft:
    form = request.form
    return news.validate_draft(
        title=form.get("title"),
        summary=form.get("summary"),
        body=form.get("body"),
        topic_slugs=form.getlist("topics"),
        keep=keep,
    )


def _schedule_time(form: MultiDict[str, str]) -> datetime | None:
    """None to publish now, or the time (in the service's zone) to publish at."""
    zone = current_app.config["TIMEZONE"]
    return scheduled_time(form, zone=zone, now=clock.now(), verb="publish")


LONG_FORMS = frozenset({"staff.news.new_item", "staff.news.edit_item"})


def allow_long_forms() -> None:
    """News bodies may be 50,000 characters, more than the site-wide limit on a form.

    An app-wide hook, registered before CSRF protection, which reads the form first.
    """
    if request.endpoint in LONG_FORMS:
        request.max_content_length = 1024 * 1024
        request.max_form_memory_size = 1024 * 1024
