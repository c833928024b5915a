"""The admins' part of the staff area: API keys, staff accounts and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import news
from mailer.domain import staff as accounts
from mailer.errors import InvalidInput
from mailer.models import StaffRole
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
    """List staff accounts; on POST add one."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            with transaction():
                role = StaffRole(request.form.get("role", ""))
                user = accounts.create_staff(
                    request.form.get("email", ""),
                    request.form.get("password", ""),
                    role=role,
                    actor=current_actor(),
                    now=clock.now(),
                )
            flash(f"Added {user.email} as {role.value}")
            return redirect(url_for("staff.admin.users"))
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
    )
    return page, 400 if errors else 200


@bp.post("/users/<int:user_id>/access")
@admin_only
def user_access(user_id: int) -> Response:
    """Change a staff member's role, or turn their account off or on again."""
    user = accounts.staff_by_id(user_id) if 1 <= user_id <= news.MAX_ID else None
    if user is None:
        abort(404)
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
