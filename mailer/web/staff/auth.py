"""Staff sessions: who is logged in, and the guards every staff page goes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from werkzeug.wrappers import Response

from mailer.domain.staff import actor_label
from mailer.domain.staff import staff_by_id
from mailer.domain.staff_access import needs_second_factor
from mailer.models import StaffRole
from mailer.models import StaffUser

View = TypeVar("View", bound=Callable[..., Any])

# Pages reachable without logging in.
PUBLIC_ENDPOINTS = frozenset(
    {"staff.login", "staff.account.invitation", "staff.account.login_code"}
)
# Pages an admin who must set up an authenticator app first can still reach.
SETUP_ENDPOINTS = frozenset({"staff.account.two_factor", "staff.logout"})


def log_in(user: StaffUser) -> None:
    """Start a fresh session for `user` (a new session id, so none can be planted)."""
    session.clear()
    session.permanent = True
    session["staff_id"] = user.id
    session["staff_version"] = user.session_version


def log_out() -> None:
    session.clear()


def current_staff() -> StaffUser | None:
    """The logged-in staff member, if the session is still valid."""
    if "staff" not in g:
        g.staff = _load()
    user: StaffUser | None = g.staff
    return user


def current_actor() -> str:
    """How the logged-in staff member is named in the audit log."""
    user = current_staff()
    if user is None:  # require_login runs first, so this cannot happen
        abort(401)
    return actor_label(user)


def _load() -> StaffUser | None:
    staff_id, version = session.get("staff_id"), session.get("staff_version")
    if not isinstance(staff_id, int):
        return None
    user = staff_by_id(staff_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def require_login() -> Response | None:
    """Send anyone not logged in to the login page, and an admin who must use an
    authenticator app and has none to set one up (a before_request hook)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = current_staff()
    if user is None:
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    admins_must = bool(current_app.config["STAFF_ADMIN_TOTP_REQUIRED"])
    if request.endpoint not in SETUP_ENDPOINTS and needs_second_factor(
        user, admins_must=admins_must
    ):
        return redirect(url_for("staff.account.two_factor"))
    return None


def admin_only(view: View) -> View:
    """Let only admins through; editors get a 403 page."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        user = current_staff()
        if user is None or user.role is not StaffRole.ADMIN:
            abort(403)
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path inside the staff area, never another site."""
    if target and target.startswith("/staff") and target.isprintable() and "\\" not in target:
        return target
    return url_for("staff.dashboard")
