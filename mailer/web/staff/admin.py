"""The admins' part of the staff area: API keys, staff accounts (invited by email, and their
second factor) and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.delivery.direct import NotSent
from mailer.delivery.direct import compose_invitation
from mailer.delivery.direct import send_now
from mailer.delivery.messages import MailSettings
from mailer.domain import audit
from mailer.domain import news
from mailer.domain import staff as accounts
from mailer.domain import staff_access
from mailer.errors import InvalidInput
from mailer.models import StaffRole
from mailer.models import StaffUser
from mailer.tokens import staff_invite_token
from mailer.web.staff.auth import admin_only
from mailer.web.staff.auth import current_actor
from mailer.web.staff.auth import current_staff

bp = Blueprint("admin", __name__)


@bp.route("/api-keys", methods=["GET", "POST"])
@admin_only
def api_keys() -> Any:
    """List API keys; on POST make one and show it, once."""
    new_key, errors = None, {}
    if request.method == "POST":
        try:
            with transaction():
                new_key = accounts.create_api_key(
                    request.form.get("name", ""),
                    created_by=current_staff(),
                    actor=current_actor(),
                    now=clock.now(),
                )
        except InvalidInput as error:
            errors = {error.field: error.message}
    page = render_template(
        "staff/api_keys.html",
        keys=accounts.list_api_keys(),
        new_key=new_key,
        errors=errors,
        form=request.form,
    )
    return page, 400 if errors else 200


@bp.post("/api-keys/<int:key_id>/revoke")
@admin_only
def revoke_api_key(key_id: int) -> Response:
    key = next((k for k in accounts.list_api_keys() if k.id == key_id), None)
    if key is None:
        abort(404)
    with transaction():
        accounts.revoke_api_key(key, actor=current_actor(), now=clock.now())
    flash(f"Revoked the key {key.name}")
    return redirect(url_for("staff.admin.api_keys"))


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users() -> Any:
    """List staff accounts; on POST invite someone by email to set their own password."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            role = StaffRole(request.form.get("role", ""))
            with transaction():
                user = staff_access.invite(
                    request.form.get("email", ""), role=role, actor=current_actor(), now=clock.now()
                )
            return _send_invitation(user)
        except ValueError:
            errors = {"role": "Choose editor or admin"}
        except InvalidInput as error:
            errors = {error.field: error.message}
    page = render_template(
        "staff/users.html",
        users=accounts.list_staff(),
        errors=errors,
        form=request.form,
        roles=list(StaffRole),
        no_password=staff_access.NO_PASSWORD,
    )
    return page, 400 if errors else 200


@bp.post("/users/<int:user_id>/invitation")
@admin_only
def resend_invitation(user_id: int) -> Response:
    """Send a new invitation to someone who has not set a password; the old link stops."""
    user = _user_or_404(user_id)
    with transaction():
        staff_access.invite(user.email, role=user.role, actor=current_actor(), now=clock.now())
    return _send_invitation(user)


def _send_invitation(user: StaffUser) -> Response:
    """Email the invitation now, while the admin waits, and record that it went."""
    now = clock.now()
    link = str(current_app.config["BASE_URL"]).rstrip("/") + url_for(
        "staff.account.invitation", token=staff_invite_token(user.id, user.session_version)
    )
    settings = MailSettings.from_config(current_app.config)
    outgoing = compose_invitation(
        to=user.email,
        link=link,
        role=user.role.value,
        invited_by=_my_email(),
        settings=settings,
        now=now,
    )
    try:
        message_id = send_now(outgoing, config=current_app.config)
    except NotSent as error:
        flash(f"The invitation to {user.email} could not be sent ({error}). Send it again.")
        return redirect(url_for("staff.admin.users"))
    with transaction():
        audit.record(
            current_actor(), "sent an invitation", user, now=now, detail={"message_id": message_id}
        )
    flash(f"Invited {user.email} as {user.role.value}: they set their own password from the email")
    return redirect(url_for("staff.admin.users"))


@bp.post("/users/<int:user_id>/two-factor/off")
@admin_only
def turn_off_second_factor(user_id: int) -> Response:
    """Stop asking a member of staff for codes, when they have lost their phone."""
    user = _user_or_404(user_id)
    with transaction():
        staff_access.turn_off(user, actor=current_actor(), now=clock.now())
    flash(f"{user.email} no longer needs a code to sign in")
    return redirect(url_for("staff.admin.users"))


def _user_or_404(user_id: int) -> StaffUser:
    user = accounts.staff_by_id(user_id) if 1 <= user_id <= news.MAX_ID else None
    if user is None:
        abort(404)
    return user


def _my_email() -> str:
    user = current_staff()
    return user.email if user else "An admin"


@bp.post("/users/<int:user_id>/access")
@admin_only
def user_access(user_id: int) -> Response:
    """Change a staff member's role, or turn their account off or on again."""
    user = _user_or_404(user_id)
    if user.id == _current_id():
        abort(409, "You cannot change your own access; ask another admin.")
    try:
        role = StaffRole(request.form.get("role", ""))
    except ValueError:
        abort(400)
    active = request.form.get("active") == "yes"
    with transaction():
        accounts.set_access(user, role=role, active=active, actor=current_actor(), now=clock.now())
    flash(f"{user.email} is now {'an active' if active else 'a deactivated'} {role.value}")
    return redirect(url_for("staff.admin.users"))


def _current_id() -> int | None:
    user = current_staff()
    return user.id if user else None


@bp.get("/audit")
@admin_only
def audit_log() -> str:
    return render_template("staff/audit.html", events=audit.recent(limit=200))
