"""Public pages to get a copy of one's own data: ask by address or from the manage page, then
download it once through the emailed link."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext

from mailer import clock
from mailer.database import transaction
from mailer.domain import data_copy
from mailer.domain import subscriptions
from mailer.errors import ExpiredToken
from mailer.errors import InvalidToken
from mailer.extensions import limiter
from mailer.tokens import Purpose
from mailer.web.downloads import json_attachment
from mailer.web.public import ask_for_address
from mailer.web.public import bp
from mailer.web.public import signup_limit


@bp.route("/my-data", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def data_copy_request() -> Any:
    """Ask for an address and email it a link to a copy of its data; the answer is the same
    whether the address is held or not."""
    return ask_for_address(
        "data_copy_request.html",
        lambda email, now: data_copy.request_by_address(email, now=now),
        reason="data",
    )


@bp.post("/manage/<token>/data-copy")
def manage_data_copy(token: str) -> Any:
    """From the manage page: email the subscriber a link to a copy of their data."""
    with transaction():
        subscriber = subscriptions.subscriber_for_token(Purpose.MANAGE, token, lock=True)
        sent = data_copy.request_for(subscriber, now=clock.now())
    if sent:
        flash(gettext("We have emailed you a link to download a copy of your data"))
    else:
        flash(
            gettext(
                "You have been sent several emails in the last hour. "
                "Ask for a copy of your data again later."
            ),
            "important",
        )
    return redirect(url_for(".manage", token=token))


@bp.get("/my-data/<token>")
def data_copy_page(token: str) -> Any:
    """Say what the copy holds, with one button; mail scanners that fetch the link use
    nothing up."""
    try:
        data_copy.subscriber_for(token)
    except InvalidToken as error:
        return _link_error(error)
    return render_template("data_copy.html", token=token)


@bp.post("/my-data/<token>")
def data_copy_download(token: str) -> Any:
    """Download the copy, once."""
    try:
        with transaction():
            document = data_copy.take_copy(token, now=clock.now())
    except InvalidToken as error:
        return _link_error(error)
    return json_attachment(document, "csp-news-my-data")


def _link_error(error: InvalidToken) -> tuple[str, int]:
    """A used, expired or broken data-copy link, and how to get a new one."""
    expired = isinstance(error, ExpiredToken)
    return render_template("token_error.html", expired=expired, data_copy=True), 400
