"""The contact inbox: messages sent through the contact form, newest first, each with its
replies, a form to answer it by email and a way to close it without a reply."""

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
from mailer.domain import contact
from mailer.domain.contact import MAX_REPLY
from mailer.errors import FieldErrors
from mailer.models import ContactMessage
from mailer.models import ContactStatus
from mailer.models.contact import SUBJECT_AREAS
from mailer.web.paging import requested_page
from mailer.web.staff.auth import current_actor

bp = Blueprint("contact", __name__)

PER_PAGE = 25
STATUS_WORDS = {
    ContactStatus.NEW: "New",
    ContactStatus.ANSWERED: "Answered",
    ContactStatus.CLOSED: "Closed without reply",
}


@bp.context_processor
def _words() -> dict[str, Any]:
    return {"areas": SUBJECT_AREAS, "status_words": STATUS_WORDS}


@bp.get("/contact")
def inbox() -> str:
    """The messages of one status (or all), newest first, with the count of each status."""
    status = _status_filter()
    number = requested_page()
    if number is None:
        abort(404)
    page = contact.inbox_page(status=status, page=number, per_page=PER_PAGE)
    return render_template(
        "staff/contact_inbox.html",
        page=page,
        status=status,
        counts=contact.status_counts(),
    )


@bp.get("/contact/<int:message_id>")
def message(message_id: int) -> Any:
    """One message, its replies and the reply form."""
    return _message_page(_message_or_404(message_id), MultiDict(), {})


@bp.post("/contact/<int:message_id>/reply")
def reply(message_id: int) -> Any:
    """Queue a reply by email to the writer; the message becomes answered."""
    try:
        body = contact.parse_reply(request.form.get("reply", ""))
    except FieldErrors as error:
        return _message_page(_message_or_404(message_id), request.form, error.errors, status=400)
    with transaction():
        found = _message_or_404(message_id, lock=True)
        contact.reply(found, body, actor=current_actor(), now=clock.now())
    flash(f"Your reply is on its way to {found.email}")
    return redirect(url_for(".message", message_id=message_id))


@bp.post("/contact/<int:message_id>/close")
def close(message_id: int) -> Response:
    """Mark a message as dealt with, without a reply."""
    with transaction():
        found = _message_or_404(message_id, lock=True)
        contact.close(found, actor=current_actor(), now=clock.now())
    flash("The message is closed without a reply")
    return redirect(url_for(".message", message_id=message_id))


def _message_page(
    found: ContactMessage, form: MultiDict[str, str], errors: dict[str, str], *, status: int = 200
) -> Any:
    page = render_template(
        "staff/contact_message.html",
        message=found,
        form=form,
        errors=errors,
        max_reply=MAX_REPLY,
    )
    return page, status


def _message_or_404(message_id: int, *, lock: bool = False) -> ContactMessage:
    found = contact.message_by_id(message_id, lock=lock)
    if found is None:
        abort(404)
    return found


def _status_filter() -> ContactStatus | None:
    try:
        return ContactStatus(request.args.get("status", ""))
    except ValueError:
        return None
