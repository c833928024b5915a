"""The admins' data protection pages: a copy of what is held about an address (subject
access), and erasure of a subscriber."""

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
from mailer.domain import erasure
from mailer.domain.subject_access import subject_access
from mailer.domain.subscriptions import normalise_address
from mailer.errors import InvalidInput
from mailer.models import SubscriberStatus
from mailer.web.downloads import json_attachment
from mailer.web.staff.auth import admin_only
from mailer.web.staff.auth import current_actor

bp = Blueprint("privacy", __name__)


@bp.route("/subject-access", methods=["GET", "POST"])
@admin_only
def subject_access_page() -> Any:
    """Ask for everything held about an address, then download it as JSON (by POST, so the
    address never lands in a URL or a server log)."""
    if request.method != "POST":
        return render_template("staff/subject_access.html", form={}, errors={})
    try:
        email = normalise_address(request.form.get("email", ""))
    except InvalidInput as error:
        page = render_template(
            "staff/subject_access.html", form=request.form, errors={"email": error.message}
        )
        return page, 400
    return _download(email)


@bp.get("/subscribers/<int:subscriber_id>/data.json")
@admin_only
def subscriber_data(subscriber_id: int) -> Response:
    """Download everything held about one subscriber as JSON."""
    subscriber = erasure.subscriber_by_id(subscriber_id)
    if subscriber is None or subscriber.status is SubscriberStatus.ERASED:
        abort(404)
    return _download(subscriber.email)


@bp.route("/subscribers/<int:subscriber_id>/erase", methods=["GET", "POST"])
@admin_only
def erase_subscriber(subscriber_id: int) -> Any:
    """Ask why, then erase a subscriber for good."""
    subscriber = erasure.subscriber_by_id(subscriber_id)
    if subscriber is None:
        abort(404)
    if request.method != "POST":
        return _erase_page(subscriber, MultiDict(), {})
    try:
        with transaction():
            subscriber = erasure.subscriber_by_id(subscriber_id, lock=True)
            if subscriber is None:
                abort(404)
            erasure.erase(
                subscriber,
                why=request.form.get("reason", ""),
                actor=current_actor(),
                now=clock.now(),
            )
    except InvalidInput as error:
        return _erase_page(subscriber, request.form, {error.field: error.message}, status=400)
    flash(f"Erased subscriber #{subscriber_id}: only a hash of the address is kept")
    return redirect(url_for("staff.subscribers.subscriber", subscriber_id=subscriber_id))


def _download(email: str) -> Response:
    """The subject access document of an address, as a JSON attachment."""
    with transaction():
        document = subject_access(email, actor=current_actor(), now=clock.now())
    return json_attachment(document, "subject-access")


def _erase_page(subscriber: Any, form: Any, errors: dict[str, str], *, status: int = 200) -> Any:
    page = render_template("staff/erase.html", subscriber=subscriber, form=form, errors=errors)
    return page, status
