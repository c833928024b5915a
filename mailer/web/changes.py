"""A subscriber's journeys beyond the manage form: confirming more topics or a new address from
the emailed link, getting fewer emails instead of leaving, and saying why they left."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.datastructures import MultiDict

from mailer import clock
from mailer.database import transaction
from mailer.domain import leaving
from mailer.domain import subscription_changes as changes
from mailer.domain import subscriptions
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import limiter
from mailer.formatting import FREQUENCY_WORDS
from mailer.models import SubscriberStatus
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from mailer.web.public import MAY_SAY_WHY
from mailer.web.public import origin
from mailer.web.public import signup_limit

bp = Blueprint("changes", __name__)


@bp.get("/change/<token>")
def change_page(token: str) -> str:
    """What the link will do, and one button; mail scanners that fetch it change nothing."""
    with transaction():
        subscriber, event_id = changes.subscriber_for_change(token)
        asked = changes.named_request(subscriber, event_id)
    return render_template(
        "change.html", token=token, request_=asked, frequency_words=FREQUENCY_WORDS
    )


@bp.post("/change/<token>")
def change(token: str) -> str:
    """Add the topics, or move to the new address, that the link names; once."""
    now = clock.now()
    with transaction():
        subscriber, event_id = changes.subscriber_for_change(token)
        asked = changes.named_request(subscriber, event_id)
        if asked.new_email is not None:
            changes.change_email(subscriber, event_id, origin=origin("link"), now=now)
        else:
            changes.add_topics(subscriber, event_id, origin=origin("link"), now=now)
        manage_token = subscriber_token(Purpose.MANAGE, subscriber)
    return render_template("changed.html", request_=asked, manage_token=manage_token)


@bp.post("/manage/<token>/email")
@limiter.limit(signup_limit)
def new_email(token: str) -> Any:
    """Ask for the subscription to move to a new address, confirmed from that address."""
    with transaction():
        subscriber = subscriptions.subscriber_for_token(Purpose.MANAGE, token, lock=True)
        if subscriber.status is not SubscriberStatus.ACTIVE:
            return render_template("not_subscribed.html", subscriber=subscriber)
        try:
            address = subscriptions.normalise_address(request.form.get("email", ""))
            changes.ask_to_change_email(subscriber, address, origin=origin(), now=clock.now())
        except InvalidInput as error:
            page = render_template(
                "change_email.html", token=token, form=request.form, errors={"email": error.message}
            )
            return page, 400
    return redirect(url_for("public.check_email", reason="email"))


@bp.get("/manage/<token>/email")
def new_email_form(token: str) -> str:
    """The form to give a new address."""
    subscriptions.subscriber_for_token(Purpose.MANAGE, token)
    return render_template("change_email.html", token=token, form=MultiDict(), errors={})


@bp.post("/unsubscribe/<token>/weekly")
def fewer(token: str) -> str:
    """Instead of leaving: one email a week with everything, whatever was chosen before."""
    with transaction():
        subscriber = subscriptions.subscriber_for_token(Purpose.UNSUBSCRIBE, token, lock=True)
        if subscriber.status is not SubscriberStatus.ACTIVE:
            return render_template("unsubscribe.html", subscriber=subscriber, token=token)
        changes.fewer_emails(subscriber, origin=origin("link"), now=clock.now())
        manage_token = subscriber_token(Purpose.MANAGE, subscriber)
    return render_template("fewer_emails.html", manage_token=manage_token)


@bp.post("/unsubscribed/why")
@limiter.limit(signup_limit)
def why() -> Any:
    """Keep the reason someone gave for leaving, apart from who they were."""
    if not session.get(MAY_SAY_WHY):
        return render_template("left_reason.html", thanked=True)
    try:
        with transaction():
            leaving.record(request.form.get("reason"), request.form.get("comment"), now=clock.now())
    except FieldErrors as error:
        page = render_template(
            "unsubscribed.html", form=request.form, errors=error.errors, reasons=leaving.REASONS
        )
        return page, 400
    session.pop(MAY_SAY_WHY, None)
    return render_template("left_reason.html", thanked=True)
