"""Public pages: subscribe, confirm, manage, unsubscribe (including RFC 8058 one-click) and the
privacy notice."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateNotFound
from werkzeug.datastructures import MultiDict

from mailer import clock
from mailer.database import transaction
from mailer.domain import practitioners
from mailer.domain import segments
from mailer.domain import subscription_changes
from mailer.domain import subscriptions
from mailer.domain.leaving import REASONS
from mailer.domain.subscriptions import Choice
from mailer.domain.subscriptions import Origin
from mailer.domain.topics import grouped
from mailer.domain.topics import list_topics
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import csrf
from mailer.extensions import limiter
from mailer.i18n import page_language
from mailer.models import Frequency
from mailer.models import SubscriberStatus
from mailer.models import Topic
from mailer.privacy_notices import NOTICE_VERSION
from mailer.privacy_notices import notice_order
from mailer.privacy_notices import read_notice
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from mailer.web.languages import read_language

bp = Blueprint("public", __name__)

FREQUENCIES = (
    ("immediate", _l("Immediately"), _l("An email each time news is published")),
    ("daily", _l("Daily"), _l("One email a day with all the news of that day")),
    ("weekly", _l("Weekly"), _l("One email a week with all the news of that week")),
)

# Set in the session of a browser that has just unsubscribed: it may say why, once.
MAY_SAY_WHY = "may_say_why"
# A one-click POST (RFC 8058) carries exactly this form field.
ONE_CLICK = ("List-Unsubscribe", "One-Click")
# A privacy notice version as it may appear in a URL or a form: nothing that could leave
# templates/privacy/, such as "../base".
NOTICE = re.compile(NOTICE_VERSION)


def signup_limit() -> str:
    return str(current_app.config["SUBSCRIBE_RATE_LIMIT"])


@bp.after_request
def _private_pages(response: Response) -> Response:
    """Pages reached through a token show personal data: never cache them, never leak the URL."""
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def subscribe() -> Any:
    """Show the sign-up form; on POST record the request and send the confirmation email."""
    if request.method != "POST":
        # "Get emails about Events" on a topic page opens the form with Events ticked.
        return _choice_form("subscribe.html", MultiDict({"topics": request.args.getlist("topics")}))
    errors, email, choice = _read_signup(request.form)
    if errors or email is None or choice is None:
        return _choice_form("subscribe.html", request.form, errors, status=400)
    shown = origin(notice_version=_notice_shown(request.form.get("notice_version")))
    # Their emails come in the language of the form they signed up on.
    choice = replace(choice, language=page_language())
    with transaction():
        subscription_changes.sign_up(email, choice, origin=shown, now=clock.now())
    return redirect(url_for(".check_email"))


@bp.get("/check-your-email")
def check_email() -> str:
    """The one answer to every sign-up and manage-link request, whatever the address."""
    return render_template("check_email.html", reason=request.args.get("reason", "subscribe"))


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> str:
    """Show one button; mail scanners that fetch the link change nothing."""
    subscriber = subscriptions.subscriber_for_token(Purpose.CONFIRM, token)
    return render_template("confirm.html", token=token, subscriber=subscriber)


@bp.post("/confirm/<token>")
def confirm(token: str) -> str:
    """Activate the subscription and queue the welcome email."""
    with transaction():
        subscriber = subscriptions.subscriber_for_token(Purpose.CONFIRM, token, lock=True)
        subscriptions.confirm_subscription(subscriber, origin=origin("link"), now=clock.now())
        manage_token = subscriber_token(Purpose.MANAGE, subscriber)
    return render_template("confirmed.html", subscriber=subscriber, manage_token=manage_token)


@bp.route("/manage", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def manage_request() -> Any:
    """Ask for an address and email it a fresh manage link."""
    return ask_for_address(
        "manage_request.html",
        lambda email, now: subscriptions.request_manage_link(email, now=now),
        reason="manage",
    )


def ask_for_address(template: str, act: Callable[[str, datetime], object], *, reason: str) -> Any:
    """Ask for an address (GET); then `act` on it and send the person to check their email,
    the same answer whether the address is held or not."""
    if request.method != "POST":
        return render_template(template, form=MultiDict(), errors={})
    try:
        email = subscriptions.normalise_address(request.form.get("email", ""))
    except InvalidInput as error:
        errors = {error.field: error.message}
        return render_template(template, form=request.form, errors=errors), 400
    with transaction():
        act(email, clock.now())
    return redirect(url_for(".check_email", reason=reason))


@bp.route("/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> Any:
    """Show and change a subscriber's topics and frequency."""
    changing = request.method == "POST"
    subscriber = subscriptions.subscriber_for_token(Purpose.MANAGE, token, lock=changing)
    if subscriber.status is not SubscriberStatus.ACTIVE:
        return render_template("not_subscribed.html", subscriber=subscriber)
    unsubscribe_token = subscriber_token(Purpose.UNSUBSCRIBE, subscriber)
    ended = [s.topic for s in subscriber.subscriptions if s.topic.retired_at is not None]
    if not changing:
        form = MultiDict(
            [("topics", s.topic.slug) for s in subscriber.subscriptions]
            + [("frequency", s.frequency.value) for s in subscriber.subscriptions[:1]]
            + [("organisation_type", subscriber.organisation_type or "")]
            + [("areas", csp.code) for csp in subscriber.areas]
            + [("language", subscriber.language)]
        )
        return _choice_form(
            "manage.html",
            form,
            subscriber=subscriber,
            token=token,
            unsubscribe_token=unsubscribe_token,
            ended=ended,
        )
    errors, choice = _read_choice(request.form)
    if errors or choice is None:
        return _choice_form(
            "manage.html",
            request.form,
            errors,
            status=400,
            subscriber=subscriber,
            token=token,
            unsubscribe_token=unsubscribe_token,
            ended=ended,
        )
    with transaction():
        subscriptions.change_subscription(subscriber, choice, origin=origin(), now=clock.now())
    flash(gettext("Your subscription has been updated"))
    return redirect(url_for(".manage", token=token))


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    """Show one button; a GET never unsubscribes."""
    subscriber = subscriptions.subscriber_for_token(Purpose.UNSUBSCRIBE, token)
    return render_template("unsubscribe.html", subscriber=subscriber, token=token)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # type: ignore[untyped-decorator]
def unsubscribe(token: str) -> str:
    """Unsubscribe: the page's button, and the RFC 8058 one-click POST (no cookie, no CSRF).

    The signed token is the authorisation. The answer is 200 without a redirect, every time.
    """
    one_click = request.form.get(ONE_CLICK[0]) == ONE_CLICK[1]
    with transaction():
        subscriber = subscriptions.subscriber_for_token(Purpose.UNSUBSCRIBE, token, lock=True)
        left = subscriptions.unsubscribe(
            subscriber, origin=origin("one-click" if one_click else "link"), now=clock.now()
        )
    if left and not one_click:
        # The person at this browser may then say why they left, once.
        session[MAY_SAY_WHY] = True
    return render_template("unsubscribed.html", form=MultiDict(), errors={}, reasons=REASONS)


@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice in force now."""
    return _notice(current_app.config["PRIVACY_NOTICE_VERSION"])


@bp.get("/privacy/<version>")
def privacy_version(version: str) -> str:
    """A privacy notice by its version, earlier ones included, worded as it was published."""
    if not is_published_notice(version):
        abort(404)
    return _notice(version)


def _notice(version: str) -> str:
    """Render a notice with the facts its version declares, never the live settings."""
    current = version == current_app.config["PRIVACY_NOTICE_VERSION"]
    notice = read_notice(version)
    return render_template(
        f"privacy/{version}.html", version=version, current=current, notice=notice
    )


def is_published_notice(version: str | None) -> bool:
    """Whether `version` names a privacy notice that is or has been in force: it has a
    template and is not later than the current version (a draft of the next one is not)."""
    if not version or not NOTICE.fullmatch(version):
        return False
    if notice_order(version) > notice_order(current_app.config["PRIVACY_NOTICE_VERSION"]):
        return False
    try:
        current_app.jinja_env.get_template(f"privacy/{version}.html")
    except TemplateNotFound:
        return False
    return True


def _notice_shown(submitted: str | None) -> str:
    """The notice version a form says it showed, if it is a real one; else the current one."""
    if submitted and is_published_notice(submitted):
        return submitted
    return str(current_app.config["PRIVACY_NOTICE_VERSION"])


def _read_signup(
    form: MultiDict[str, str],
) -> tuple[dict[str, str], str | None, Choice | None]:
    """Validate the sign-up form; return every error at once, for the error summary."""
    errors: dict[str, str] = {}
    email = None
    try:
        email = subscriptions.normalise_address(form.get("email", ""))
    except InvalidInput as error:
        errors[error.field] = error.message
    choice_errors, choice = _read_choice(form)
    return {**errors, **choice_errors}, email, choice


def _read_choice(form: MultiDict[str, str]) -> tuple[dict[str, str], Choice | None]:
    """Validate the topics and frequency fields."""
    errors: dict[str, str] = {}
    topics: tuple[Topic, ...] = ()
    frequency = Frequency.DAILY
    try:
        topics = subscriptions.parse_topics(form.getlist("topics"))
    except InvalidInput as error:
        errors[error.field] = error.message
    try:
        frequency = subscriptions.parse_frequency(form.get("frequency"))
    except InvalidInput as error:
        errors[error.field] = error.message
    profile = None
    if form.get("profile") == "asked":
        try:
            profile = practitioners.parse_profile(
                form.get("organisation_type"), form.getlist("areas")
            )
        except FieldErrors as error:
            errors.update(error.errors)
    # The manage page asks which language they want emails in; the sign-up form does not.
    language, language_errors = read_language(form)
    errors |= language_errors
    return errors, None if errors else Choice(topics, frequency, profile, language)


def _choice_form(
    template: str,
    form: MultiDict[str, str],
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
    **context: Any,
) -> tuple[str, int]:
    """Render a form of topic checkboxes and frequency radios."""
    page = render_template(
        template,
        topic_groups=grouped(list_topics()),
        frequencies=FREQUENCIES,
        practitioner_choices=segments.choices(),
        form=form,
        errors=errors or {},
        **context,
    )
    return page, status


def origin(method: str = "form", *, notice_version: str | None = None) -> Origin:
    """Describe the current request for the consent record."""
    return Origin(
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        method=method,
        notice_version=notice_version,
    )
