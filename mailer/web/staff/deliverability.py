"""The admins' deliverability pages: the suppression list, unreadable inbound mail, and what
comes back from the mail sent."""

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
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import deliverability
from mailer.domain import suppressions
from mailer.domain.subscriptions import normalise_address
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.models import InboundMessage
from mailer.models import Suppression
from mailer.models import SuppressionReason
from mailer.web.paging import requested_page
from mailer.web.staff.auth import admin_only
from mailer.web.staff.auth import current_actor

bp = Blueprint("deliverability", __name__)

PER_PAGE = 50
REASONS = {
    SuppressionReason.HARD_BOUNCE: "Hard bounce",
    SuppressionReason.SOFT_BOUNCES: "Repeated soft bounces",
    SuppressionReason.COMPLAINT: "Reported as spam",
    SuppressionReason.MANUAL: "Added by staff",
    SuppressionReason.ERASED: "Erased on request or after unsubscribing",
}
# The charts of the deliverability page: the Overview field, then the words of its chart.
CHARTS = (
    ("sent", {"title": "Emails sent", "one": "email", "many": "emails", "verb": "sent"}),
    ("bounced", {"title": "Emails bounced", "one": "email", "many": "emails", "verb": "bounced"}),
    (
        "complained",
        {
            "title": "Emails reported as spam",
            "one": "email",
            "many": "emails",
            "verb": "reported as spam",
        },
    ),
    (
        "unsubscribed",
        {"title": "Unsubscribes", "one": "person", "many": "people", "verb": "unsubscribed"},
    ),
)


@bp.get("/suppressions")
@admin_only
def suppression_list() -> tuple[str, int]:
    """The suppression list, newest first, or the entry of one address (?q=)."""
    return _suppressions_page(MultiDict(), {})


@bp.post("/suppressions")
@admin_only
def add_suppression() -> Any:
    """Suppress an address by hand; an address already there is left as it is."""
    try:
        email, note = _addition(request.form)
    except FieldErrors as error:
        return _suppressions_page(request.form, error.errors, status=400)
    with transaction():
        added = deliverability.suppress_by_hand(
            email, note=note, actor=current_actor(), now=clock.now()
        )
    if not added:
        message = f"{email} is already on the suppression list; nothing was changed"
        return _suppressions_page(request.form, {"email": message}, status=409, query=email)
    flash(f"Added {email} to the suppression list")
    return redirect(url_for("staff.deliverability.suppression_list"))


@bp.route("/suppressions/<int:suppression_id>/remove", methods=["GET", "POST"])
@admin_only
def remove_suppression(suppression_id: int) -> Any:
    """Ask why, then take an address off the list (an erased one must be typed in)."""
    entry = deliverability.suppression_by_id(suppression_id)
    if entry is None:
        abort(404)
    if request.method != "POST":
        return _remove_page(entry, MultiDict(), {})
    try:
        email = entry.email or _erased_address(entry, request.form.get("email", ""))
        reason = deliverability.clean_text(request.form.get("reason", ""), field="reason")
        with transaction():
            suppressions.unsuppress(email, reason=reason, actor=current_actor(), now=clock.now())
    except InvalidInput as error:
        return _remove_page(entry, request.form, {error.field: error.message}, status=400)
    flash(f"Took {email} off the suppression list")
    return redirect(url_for("staff.deliverability.suppression_list"))


@bp.get("/inbound")
@admin_only
def inbound_list() -> str:
    """Mail the bounce inbox could not read, newest first."""
    listing = deliverability.inbound_page(page=requested_page() or 1, per_page=PER_PAGE)
    return render_template("staff/inbound.html", listing=listing)


@bp.get("/inbound/<int:message_id>")
@admin_only
def inbound_message(message_id: int) -> str:
    """One unreadable message as plain text, cut at SHOWN_BYTES."""
    message = _inbound_or_404(message_id)
    excerpt = deliverability.inbound_excerpt(message)
    return render_template("staff/inbound_message.html", message=message, excerpt=excerpt)


@bp.get("/inbound/<int:message_id>/raw")
@admin_only
def inbound_raw(message_id: int) -> Response:
    """The whole message as a download, never shown by the browser."""
    message = _inbound_or_404(message_id)
    response = Response(message.content, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="inbound-{message.id}.eml"'
    return response


@bp.post("/inbound/<int:message_id>/handled")
@admin_only
def handle_inbound(message_id: int) -> Response:
    """Mark a message as dealt with."""
    with transaction():
        message = _inbound_or_404(message_id, lock=True)
        changed = deliverability.mark_handled(message, actor=current_actor(), now=clock.now())
    flash(f"Message {message_id} {'marked as handled' if changed else 'was already handled'}")
    return redirect(url_for("staff.deliverability.inbound_list"))


@bp.get("/deliverability")
@admin_only
def deliverability_overview() -> str:
    """Mail sent and the bounces, complaints and unsubscribes of the last 30 days."""
    overview = deliverability.daily_overview(
        now=clock.now(), zone=ZoneInfo(current_app.config["TIMEZONE"])
    )
    labels = [f"{day.day} {day:%b}" for day, _ in overview.sent.points]
    return render_template(
        "staff/deliverability.html", overview=overview, labels=labels, charts=CHARTS
    )


def _suppressions_page(
    form: MultiDict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
    query: str | None = None,
) -> tuple[str, int]:
    """The list page: one page of the list, or the result of a search by address."""
    query = request.args.get("q", "").strip() if query is None else query
    found: list[Suppression] | None = None
    listing = None
    if query:
        try:
            entry = suppressions.find(normalise_address(query))
            found = [entry] if entry else []
        except InvalidInput as error:
            errors, status = {"q": error.message, **errors}, 400
    if found is None:
        listing = deliverability.suppression_page(page=requested_page() or 1, per_page=PER_PAGE)
    page = render_template(
        "staff/suppressions.html",
        listing=listing,
        found=found,
        query=query,
        reasons=REASONS,
        errors=errors,
        form=form,
    )
    return page, status


def _addition(form: MultiDict[str, str]) -> tuple[str, str]:
    """The address and note of the add form.

    :raises FieldErrors: either is wrong.
    """
    errors: dict[str, str] = {}
    email = note = ""
    try:
        email = normalise_address(form.get("email", ""))
    except InvalidInput as error:
        errors[error.field] = error.message
    try:
        note = deliverability.clean_text(form.get("note", ""), field="note")
    except InvalidInput as error:
        errors[error.field] = error.message
    if errors:
        raise FieldErrors(errors)
    return email, note


def _erased_address(entry: Suppression, raw: str) -> str:
    """The address staff typed for an erased entry, if it is that entry's.

    :raises InvalidInput: it is not a valid address, or not the one erased.
    """
    email = normalise_address(raw)
    if suppressions.address_hash(email) != entry.address_hash:
        raise InvalidInput("email", "That is not the address of this entry")
    return email


def _remove_page(
    entry: Suppression, form: MultiDict[str, str], errors: dict[str, str], *, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "staff/suppression_remove.html", entry=entry, reasons=REASONS, errors=errors, form=form
    )
    return page, status


def _inbound_or_404(message_id: int, *, lock: bool = False) -> InboundMessage:
    message = deliverability.inbound_by_id(message_id, lock=lock)
    if message is None:
        abort(404)
    return message
