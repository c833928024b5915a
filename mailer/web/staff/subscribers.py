"""The admins' subscriber pages: the filtered list, one subscriber, and the CSV export."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import leaving
from mailer.domain import practitioners
from mailer.domain import subscriber_admin
from mailer.domain import subscriber_care
from mailer.domain import subscriber_export
from mailer.domain import subscriptions
from mailer.domain.paging import Page
from mailer.domain.subscriber_admin import Filters
from mailer.domain.subscriptions import Choice
from mailer.domain.topics import grouped
from mailer.domain.topics import list_topics
from mailer.errors import InvalidInput
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.web.paging import requested_page
from mailer.web.public import FREQUENCIES
from mailer.web.staff.auth import admin_only
from mailer.web.staff.auth import current_actor

bp = Blueprint("subscribers", __name__)

PER_PAGE = 50
# GOV.UK tag colours by subscriber status; a pending subscriber has the default (blue) tag.
STATUS_TAGS = {
    SubscriberStatus.ACTIVE: "govuk-tag--green",
    SubscriberStatus.UNSUBSCRIBED: "govuk-tag--grey",
    SubscriberStatus.SUPPRESSED: "govuk-tag--red",
    SubscriberStatus.ERASED: "govuk-tag--grey",
}


@bp.get("/subscribers")
@admin_only
def subscribers() -> tuple[str, int]:
    """Counts by status, then the subscribers the filters match, newest first, 50 a page."""
    try:
        filters = subscriber_admin.parse_filters(request.args)
    except InvalidInput as error:
        return _list_page(None, Filters(), {error.field: error.message}, status=400)
    listing = subscriber_admin.page(filters, page=requested_page() or 1, per_page=PER_PAGE)
    return _list_page(listing, filters, {})


@bp.get("/subscribers/<int:subscriber_id>")
@admin_only
def subscriber(subscriber_id: int) -> str:
    """One subscriber: status, dates, topics, consent history, latest emails and bounces."""
    detail = subscriber_admin.subscriber_detail(subscriber_id)
    if detail is None:
        abort(404)
    return render_template(
        "staff/subscriber.html",
        detail=detail,
        subscriber=detail.subscriber,
        status_tags=STATUS_TAGS,
        organisation=practitioners.organisation_label(detail.subscriber.organisation_type),
        areas=practitioners.area_words(detail.subscriber),
    )


@bp.route("/subscribers/<int:subscriber_id>/topics", methods=["GET", "POST"])
@admin_only
def change_topics(subscriber_id: int) -> Any:
    """Change a subscriber's topics and frequency for them, when they ask."""
    found = _subscriber_or_404(subscriber_id, lock=request.method == "POST")
    if request.method != "POST":
        form = MultiDict(
            [("topics", s.topic.slug) for s in found.subscriptions]
            + [("frequency", s.frequency.value) for s in found.subscriptions[:1]]
        )
        return _topics_form(found, form, {})
    errors: dict[str, str] = {}
    try:
        topics = subscriptions.parse_topics(request.form.getlist("topics"))
    except InvalidInput as error:
        errors[error.field] = error.message
    try:
        frequency = subscriptions.parse_frequency(request.form.get("frequency"))
    except InvalidInput as error:
        errors[error.field] = error.message
    if errors:
        return _topics_form(found, request.form, errors, status=400)
    with transaction():
        subscriber_care.change_topics(
            found, Choice(topics, frequency), actor=current_actor(), now=clock.now()
        )
    flash("Their topics have been changed")
    return redirect(url_for("staff.subscribers.subscriber", subscriber_id=found.id))


@bp.post("/subscribers/<int:subscriber_id>/manage-link")
@admin_only
def send_manage_link(subscriber_id: int) -> Response:
    """Email a subscriber a fresh link to manage their subscription."""
    found = _subscriber_or_404(subscriber_id, lock=True)
    with transaction():
        subscriber_care.send_manage_link(found, actor=current_actor(), now=clock.now())
    flash(f"A link to manage their subscription is on its way to {found.email}")
    return redirect(url_for("staff.subscribers.subscriber", subscriber_id=found.id))


@bp.get("/subscribers/leaving-reasons")
@admin_only
def leaving_reasons() -> str:
    """What people said when they unsubscribed, over the last 90 days."""
    report = leaving.report(now=clock.now())
    return render_template("staff/leaving_reasons.html", report=report, reasons=leaving.REASONS)


def _subscriber_or_404(subscriber_id: int, *, lock: bool = False) -> Subscriber:
    found = subscriber_admin.find(subscriber_id, lock=lock)
    if found is None:
        abort(404)
    return found


def _topics_form(
    found: Subscriber, form: MultiDict[str, str], errors: dict[str, str], *, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "staff/subscriber_topics.html",
        subscriber=found,
        topic_groups=grouped(list_topics()),
        frequencies=FREQUENCIES,
        form=form,
        errors=errors,
    )
    return page, status


@bp.get("/subscribers/export.csv")
@admin_only
def export_subscribers() -> Any:
    """The matching subscribers (never the erased) as a CSV download, written as it is read
    from the database; the export is in the audit log before the first byte leaves."""
    try:
        filters = subscriber_admin.parse_filters(request.args)
    except InvalidInput as error:
        return _list_page(None, Filters(), {error.field: error.message}, status=400)
    now = clock.now()
    with transaction():
        rows = subscriber_export.count(filters)
        detail = {"filters": filters.as_args(), "rows": rows}
        audit.record(current_actor(), "subscribers.export", "Subscriber", now=now, detail=detail)
    chunks = subscriber_export.csv_chunks(subscriber_export.export_rows(filters))
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    day = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    response.headers["Content-Disposition"] = f'attachment; filename="subscribers-{day}.csv"'
    return response


def _list_page(
    listing: Page[Subscriber] | None,
    filters: Filters,
    errors: dict[str, str],
    *,
    status: int = 200,
) -> tuple[str, int]:
    """The list page; with errors, the form as it was sent and no results."""
    page = render_template(
        "staff/subscribers.html",
        counts=subscriber_admin.counts(),
        listing=listing,
        filters=filters,
        form=request.args,
        errors=errors,
        selects=_selects(),
        status_tags=STATUS_TAGS,
    )
    return page, status


def _selects() -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """The filter form's drop-downs: field, label, the "any" option, (value, text) options."""
    return [
        (
            "status",
            "Status",
            "Any status",
            [(s.value, s.value.capitalize()) for s in SubscriberStatus],
        ),
        (
            "topic",
            "Topic",
            "Any topic",
            [(topic.slug, topic.name) for topic in list_topics(include_retired=True)],
        ),
        (
            "frequency",
            "How often",
            "Any frequency",
            [(f.value, f.value.capitalize()) for f in Frequency],
        ),
    ]
