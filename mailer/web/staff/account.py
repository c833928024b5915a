"""A member of staff's own access: setting a password from an invitation, the code of an
authenticator app at login, and turning that second factor on and off."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import staff_access
from mailer.domain.staff import actor_label
from mailer.domain.staff import staff_by_id
from mailer.errors import ExpiredToken
from mailer.errors import InvalidInput
from mailer.errors import InvalidToken
from mailer.extensions import limiter
from mailer.models import StaffRole
from mailer.models import StaffUser
from mailer.web.staff.auth import current_staff
from mailer.web.staff.auth import log_in
from mailer.web.staff.auth import safe_next

bp = Blueprint("account", __name__)

# Where a password login that still needs a code is kept, with the account's session version.
PENDING = "pending_staff"


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def invitation(token: str) -> Any:
    """Set a password from the link of an invitation, which then stops working."""
    try:
        with transaction():
            user = staff_access.invited_account(token)
            if request.method != "POST":
                return _password_form(user, {})
            staff_access.set_first_password(
                user,
                request.form.get("password", ""),
                request.form.get("repeat", ""),
                now=clock.now(),
            )
    except InvalidToken as error:
        expired = isinstance(error, ExpiredToken)
        page = render_template("token_error.html", expired=expired, staff_invite=True)
        return page, 400
    except InvalidInput as error:
        return _password_form(user, {error.field: error.message}, status=400)
    log_in(user)
    flash("Your password is set")
    return redirect(url_for("staff.dashboard"))


def _password_form(user: StaffUser, errors: dict[str, str], *, status: int = 200) -> Any:
    return render_template("staff/set_password.html", user=user, errors=errors), status


def start_second_step(user: StaffUser) -> Response:
    """After a right password, ask for the app's code before the session starts."""
    session.clear()
    session[PENDING] = [user.id, user.session_version]
    return redirect(url_for("staff.account.login_code", next=request.args.get("next")))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login_code() -> Any:
    """The second step of logging in: the code the authenticator app shows."""
    user = _pending()
    if user is None:
        return redirect(url_for("staff.login"))
    if request.method != "POST":
        return render_template("staff/login_code.html", errors={})
    now = clock.now()
    with transaction():
        locked = user.locked_until is not None and user.locked_until > now
        right = not locked and staff_access.check_code(user, request.form.get("code", ""), now=now)
    if not right:
        message = (
            "Enter the 6-digit code your authenticator app shows now. After 5 wrong "
            "attempts in a row the account is locked for 15 minutes."
        )
        return render_template("staff/login_code.html", errors={"code": message}), 401
    log_in(user)
    return redirect(safe_next(request.args.get("next")))


def _pending() -> StaffUser | None:
    pending = session.get(PENDING)
    if not isinstance(pending, list) or len(pending) != 2:
        return None
    user = staff_by_id(pending[0]) if isinstance(pending[0], int) else None
    if user is None or not user.active or user.session_version != pending[1]:
        return None
    return user


@bp.get("/account")
def account() -> str:
    """The person's own account: role, last login, and the second factor."""
    return render_template("staff/account.html", required=_admins_must())


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor() -> Any:
    """Set up an authenticator app: show a new secret, then take a code from it."""
    user = _me()
    if request.method != "POST" or "secret" not in session:
        session["secret"] = staff_access.new_secret()
        return _setup_page(user, {})
    try:
        with transaction():
            staff_access.turn_on(
                user, session["secret"], request.form.get("code", ""), now=clock.now()
            )
    except InvalidInput as error:
        return _setup_page(user, {error.field: error.message}, status=400)
    session.pop("secret", None)
    flash("Your account now asks for a code from your authenticator app")
    return redirect(url_for("staff.account.account"))


def _setup_page(user: StaffUser, errors: dict[str, str], *, status: int = 200) -> Any:
    secret = session["secret"]
    page = render_template(
        "staff/two_factor.html",
        key=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        uri=staff_access.setup_uri(user, secret),
        errors=errors,
        form=MultiDict(),
    )
    return page, status


@bp.post("/account/two-factor/off")
def two_factor_off() -> Response:
    """Stop asking for codes (not allowed for admins when the setting requires them)."""
    user = _me()
    if _admins_must() and user.role is StaffRole.ADMIN:
        abort(409, "Admins must use an authenticator app here")
    with transaction():
        staff_access.turn_off(user, actor=actor_label(user), now=clock.now())
    flash("Your account no longer asks for a code; sign in again")
    return redirect(url_for("staff.login"))


def _me() -> StaffUser:
    user = current_staff()
    if user is None:  # the login guard runs first
        abort(401)
    return user


def _admins_must() -> bool:
    return bool(current_app.config["STAFF_ADMIN_TOTP_REQUIRED"])
