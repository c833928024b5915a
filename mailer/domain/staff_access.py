"""How staff get in: an invitation by email to set their own password, and an authenticator
app (TOTP, RFC 6238) as a second factor.

An invited account has no password until its owner sets one through the emailed link; the
link names the account's session version, which setting the password (or a newer invitation)
moves on, so it works once. A code from the authenticator app is good once: the step it
belongs to is kept, and a code of that step or an earlier one is refused.
"""

from __future__ import annotations

from datetime import datetime

import pyotp

from mailer.domain import audit
from mailer.domain import staff as accounts
from mailer.domain.subscriptions import normalise_address
from mailer.errors import Conflict
from mailer.errors import InvalidInput
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.models import StaffRole
from mailer.models import StaffUser
from mailer.tokens import read_staff_invite_token

# No argon2 hash looks like this: an invited account cannot log in until a password is set.
NO_PASSWORD = ""
STEP_SECONDS = 30
# Codes of the step before and after the current one are taken too (clocks drift).
DRIFT_STEPS = 1
ISSUER = "CSP news staff"


class AlreadyMember(Conflict):
    """The address already has an account that has set its password."""

    hint = "Change the account's access on the staff accounts page instead."


def invite(email: str, *, role: StaffRole, actor: str, now: datetime) -> StaffUser:
    """Add an account without a password, or renew the invitation of one that has not set its
    password yet (the earlier link stops working); the caller emails the link.

    :raises InvalidInput: a bad address.
    :raises AlreadyMember: the address has an account in use.
    """
    address = normalise_address(email)
    user = accounts.staff_by_email(address, lock=True)
    if user is not None and user.password_hash != NO_PASSWORD:
        raise AlreadyMember(f"{address} already has a staff account")
    if user is None:
        user = StaffUser(
            email=address,
            email_key=address.casefold(),
            password_hash=NO_PASSWORD,
            role=role,
            created_at=now,
        )
        db.session.add(user)
    else:
        user.role = role
        accounts.end_sessions(user)
    audit.record(actor, "invited", user, now=now, detail={"role": role.value})
    return user


def invited_account(token: str) -> StaffUser:
    """The account an invitation link is for, while the link still works.

    :raises ExpiredToken: the link is older than the invitation allows.
    :raises InvalidToken: tampered, used already, replaced by a newer invitation, or the
        account is gone or turned off.
    """
    staff_id, version = read_staff_invite_token(token)
    user = db.session.get(StaffUser, staff_id, with_for_update=True)
    if user is None or not user.active or user.session_version != version:
        raise InvalidToken("the invitation has been used or replaced")
    if user.password_hash != NO_PASSWORD:
        raise InvalidToken("the account has a password already")
    return user


def set_first_password(user: StaffUser, password: str, repeat: str, *, now: datetime) -> None:
    """Set an invited account's password; the invitation link stops working.

    :raises InvalidInput: the password is too short or long, or the two differ.
    """
    accounts.check_password(password)
    if password != repeat:
        raise InvalidInput("repeat", "Enter the same password twice")
    user.password_hash = accounts.hash_password(password)
    user.last_login_at = now
    accounts.end_sessions(user)
    audit.record(accounts.actor_label(user), "set a password", user, now=now)


def new_secret() -> str:
    """A fresh random secret for an authenticator app (160 bits, base32)."""
    return pyotp.random_base32(32)


def setup_uri(user: StaffUser, secret: str) -> str:
    """The otpauth:// address an authenticator app reads (as a QR code or a link)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def turn_on(user: StaffUser, secret: str, code: str, *, now: datetime) -> None:
    """Start asking for codes from the app set up with `secret`, once a code from it is right.

    :raises InvalidInput: the code is not right.
    """
    step = _matching_step(secret, code, now=now, after=None)
    if step is None:
        raise InvalidInput("code", "Enter the 6-digit code the app shows now")
    user.totp_secret, user.totp_last_step = secret, step
    audit.record(accounts.actor_label(user), "turned on a second factor", user, now=now)


def turn_off(user: StaffUser, *, actor: str, now: datetime) -> None:
    """Stop asking for codes (the person lost the phone, say); an admin or the person does it."""
    user.totp_secret, user.totp_last_step = None, None
    accounts.end_sessions(user)
    audit.record(actor, "turned off the second factor", user, now=now)


def check_code(user: StaffUser, code: str, *, now: datetime) -> bool:
    """Whether `code` is a good code of the person's app, not used before; a good one is
    used up. A wrong one counts as a failed login (five lock the account)."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now=now, after=user.totp_last_step)
    if step is None:
        accounts.count_failure(user, now=now)
        return False
    user.totp_last_step = step
    user.failed_logins = 0
    return True


def needs_second_factor(user: StaffUser, *, admins_must: bool) -> bool:
    """Whether the person must set up an app before going on: admins, when the setting says."""
    return admins_must and user.role is StaffRole.ADMIN and user.totp_secret is None


def _matching_step(secret: str, code: str, *, now: datetime, after: int | None) -> int | None:
    """The step (of STEP_SECONDS) near `now` whose code is `code`, later than `after`."""
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after is None or step > after) and totp.at(step * STEP_SECONDS) == code:
            return step
    return None
