"""The staff area: a parent blueprint with the login guard, the no-store header and the
navigation, the login and dashboard pages, and a child blueprint per area."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
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
from mailer.domain import staff as accounts
from mailer.domain.audit_words import Sentence
from mailer.domain.audit_words import actor_words
from mailer.domain.audit_words import describe_events
from mailer.domain.news import items_page
from mailer.domain.stats import dashboard_counts
from mailer.extensions import limiter
from mailer.models import NewsState
from mailer.models import StaffRole
from mailer.web.paging import requested_page
from mailer.web.staff import account
from mailer.web.staff import admin
from mailer.web.staff import bulletins as bulletin_pages
from mailer.web.staff import case_studies
from mailer.web.staff import contact as contact_pages
from mailer.web.staff import csps
from mailer.web.staff import deliverability
from mailer.web.staff import imports
from mailer.web.staff import news as news_pages
from mailer.web.staff import privacy
from mailer.web.staff import runs
from mailer.web.staff import subscribers
from mailer.web.staff import topics
from mailer.web.staff.audit_links import target_url
from mailer.web.staff.auth import current_staff
from mailer.web.staff.auth import log_in
from mailer.web.staff.auth import log_out
from mailer.web.staff.auth import require_login
from mailer.web.staff.auth import safe_next
from mailer.web.staff.navigation import staff_navigation

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.before_request(require_login)
for _area in (
    account,
    news_pages,
    bulletin_pages,
    runs,
    subscribers,
    imports,
    privacy,
    deliverability,
    admin,
    topics,
    csps,
    contact_pages,
    case_studies,
):
    bp.register_blueprint(_area.bp)


@bp.after_request
def _never_cache(response: Response) -> Response:
    """Staff pages show unpublished news and personal data."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.context_processor
def _staff_context() -> dict[str, Any]:
    user = current_staff()
    groups = None
    if user is not None:
        admin = user.role is StaffRole.ADMIN
        groups = staff_navigation(request.endpoint or "", admin=admin)
    return {
        "staff_user": user,
        "staff_area": True,
        "staff_nav": groups,
        "audit_sentences": _audit_sentences,
        "audit_url": target_url,
        "actor_words": actor_words,
    }


def _audit_sentences(events: Any) -> list[Sentence]:
    return describe_events(events, zone=current_app.config["TIMEZONE"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login() -> Any:
    """Sign in with address and password; five failures lock the account for 15 minutes."""
    if request.method != "POST":
        return render_template("staff/login.html", errors={}, form=MultiDict())
    with transaction():
        outcome = accounts.authenticate(
            request.form.get("email", ""), request.form.get("password", ""), now=clock.now()
        )
    if outcome.user is None:
        # The same words whether the address, the password or a lock-out was the reason.
        return _login_error(
            "Enter a correct email address and password. After 5 wrong attempts in a row "
            "an account is locked for 15 minutes."
        )
    user = outcome.user
    if user.totp_secret is not None:
        return account.start_second_step(user)
    log_in(user)
    return redirect(safe_next(request.args.get("next")))


def _login_error(message: str) -> tuple[str, int]:
    form = MultiDict({"email": request.form.get("email", "")})
    page = render_template("staff/login.html", errors={"email": message}, form=form)
    return page, 401


@bp.post("/logout")
def logout() -> Response:
    """End this session and every other one of the same staff member."""
    user = current_staff()
    if user is not None:
        with transaction():
            accounts.end_sessions(user)
    log_out()
    flash("You have signed out")
    return redirect(url_for("staff.login"))


@bp.get("/")
def dashboard() -> str:
    """Counts of subscribers, news and emails, and the news most recently changed."""
    page = items_page(page=requested_page() or 1, per_page=25, state=_state_filter())
    return render_template(
        "staff/dashboard.html",
        counts=dashboard_counts(),
        page=page,
        states=list(NewsState),
        state=request.args.get("state", ""),
    )


def _state_filter() -> NewsState | None:
    try:
        return NewsState(request.args.get("state", ""))
    except ValueError:
        return None
