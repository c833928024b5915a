"""Staff accounts and API keys: passwords hashed with argon2, keys stored as SHA-256."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from argon2 import PasswordHasher
from argon2 import profiles
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app
from sqlalchemy import select

from mailer.domain import audit
from mailer.domain.subscriptions import normalise_address
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import ApiKey
from mailer.models import StaffRole
from mailer.models import StaffUser

MIN_PASSWORD = 12
MAX_PASSWORD = 200
MAX_FAILED_LOGINS = 5
LOCK_FOR = timedelta(minutes=15)
KEY_PREFIX = "cspk_"


def _hasher() -> PasswordHasher:
    """argon2 with the parameters of the app's PASSWORD_HASH_PROFILE."""
    return _hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])


def _dummy_hash() -> str:
    """A hash to verify against when there is no account, so both take as long."""
    return _dummy_hash_for(current_app.config["PASSWORD_HASH_PROFILE"])


@functools.cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, profile))


@functools.cache
def _dummy_hash_for(profile: str) -> str:
    # Made on first use: argon2 takes 64 MB to make it, and most processes never log anyone in.
    return _hasher_for(profile).hash("not-a-real-password-at-all")


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login attempt; `user` is None when it failed."""

    user: StaffUser | None
    locked: bool = False


@dataclass(frozen=True)
class NewKey:
    """A freshly made API key: the only time its plain text exists."""

    key: ApiKey
    plaintext: str


def actor_label(user: StaffUser) -> str:
    """How a staff member is named in the audit log."""
    return f"staff:{user.id} {user.email}"


def check_password(password: str) -> None:
    """Refuse passwords that are too short or too long."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", f"Password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput("password", f"Password must be {MAX_PASSWORD} characters or fewer")


def create_staff(
    email: str, password: str, *, role: StaffRole, actor: str, now: datetime
) -> StaffUser:
    """Add a staff account.

    :raises InvalidInput: bad address, weak password, or the address already has an account.
    """
    address = normalise_address(email)
    check_password(password)
    if staff_by_email(address) is not None:
        raise InvalidInput("email", "There is already a staff account with this address")
    user = StaffUser(
        email=address,
        email_key=address.casefold(),
        password_hash=hash_password(password),
        role=role,
        created_at=now,
    )
    db.session.add(user)
    audit.record(actor, "created", user, now=now, detail={"role": role.value})
    return user


def staff_by_email(email: str, *, lock: bool = False) -> StaffUser | None:
    statement = select(StaffUser).where(StaffUser.email_key == email.casefold())
    return db.session.scalar(statement.with_for_update() if lock else statement)


def staff_by_id(staff_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, staff_id)


def list_staff() -> Sequence[StaffUser]:
    return db.session.scalars(select(StaffUser).order_by(StaffUser.email_key)).all()


def authenticate(email: str, password: str, *, now: datetime) -> LoginOutcome:
    """Check an address and password; the caller commits, failures included.

    Five failures in a row lock the account for 15 minutes. Every failure, a locked account
    included, takes one password check and looks the same, so nothing tells an attacker
    which addresses have accounts. The row is locked so that parallel guesses all count.
    """
    email = email.strip()
    user = None
    if email.isprintable() and 0 < len(email) <= 320:
        user = staff_by_email(email, lock=True)
    if user is None or not user.active:
        _verify(_dummy_hash(), password)
        return LoginOutcome(None)
    if user.locked_until and user.locked_until > now:
        _verify(_dummy_hash(), password)
        return LoginOutcome(None, locked=True)
    if not _verify(user.password_hash, password):
        return LoginOutcome(None, locked=count_failure(user, now=now))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return LoginOutcome(user)


def count_failure(user: StaffUser, *, now: datetime) -> bool:
    """Count a wrong password or code; the fifth in a row locks the account for 15 minutes.
    Return whether it is locked now."""
    user.failed_logins += 1
    if user.failed_logins < MAX_FAILED_LOGINS:
        return False
    user.locked_until = now + LOCK_FOR
    user.failed_logins = 0
    audit.record("login", "locked", user, now=now)
    return True


def hash_password(password: str) -> str:
    """The argon2 hash a password is kept as."""
    return _hasher().hash(password)


def end_sessions(user: StaffUser) -> None:
    """End every session of this staff member, on every device (logging out does this)."""
    user.session_version += 1


def set_access(
    user: StaffUser, *, role: StaffRole, active: bool, actor: str, now: datetime
) -> None:
    """Change a staff member's role or turn their account off; open sessions end at once."""
    if (user.role, user.active) == (role, active):
        return
    user.role = role
    user.active = active
    end_sessions(user)
    audit.record(
        actor, "changed access", user, now=now, detail={"role": role.value, "active": active}
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_api_key(name: str, *, created_by: StaffUser | None, actor: str, now: datetime) -> NewKey:
    """Make a new API key; its plain text is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise InvalidInput("name", "Enter a name of up to 100 printable characters for the key")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        key_hash=_digest(plaintext),
        prefix=plaintext[:12],
        created_at=now,
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(key)
    audit.record(actor, "created", key, now=now, detail={"name": name})
    return NewKey(key, plaintext)


def find_api_key(plaintext: str) -> ApiKey | None:
    """Return the key with this plain text, revoked or not."""
    return db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(plaintext)))


def record_key_use(key: ApiKey, *, now: datetime) -> None:
    """Note when a key was last used, for staff deciding which keys to revoke."""
    key.last_used_at = now


def list_api_keys() -> Sequence[ApiKey]:
    return db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())).all()


def revoke_api_key(key: ApiKey, *, actor: str, now: datetime) -> None:
    """Stop a key working, for good."""
    if key.revoked_at is None:
        key.revoked_at = now
        audit.record(actor, "revoked", key, now=now, detail={"name": key.name})


def _digest(plaintext: str) -> str:
    # API keys are 256 random bits, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(plaintext.encode()).hexdigest()
