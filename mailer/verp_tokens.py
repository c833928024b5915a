"""The tokens of VERP return paths: each delivery's envelope sender names it, signed, so that
a bounce names the very message it is about."""

from __future__ import annotations

import functools
import hmac
import re
from dataclasses import dataclass

from flask import current_app

from mailer.errors import InvalidToken

# The per-delivery key of a return path: 20 lowercase hex digits the database draws for
# each delivery row (mailer.models.columns.RandomKey).
RETURN_KEY = re.compile(r"[0-9a-f]{20}")


@dataclass(frozen=True)
class ReturnPath:
    """What a VERP token names: a delivery id, and the key drawn for that very delivery (None
    in the tokens of deliveries made before keys were drawn, which name the id alone)."""

    delivery_id: int
    key: str | None


def verp_token(delivery_id: int, key: str | None) -> str:
    """Make the token of a VERP return path: the delivery id in base 36, "-", the delivery's
    key, "-" and a 13-digit base-36 HMAC-SHA256 of both. Lowercase letters and digits only,
    since some servers lower-case local parts; at most 48 characters, inside the 64 of a
    local part. The key makes the path name one message for good: a row id handed out
    again (SQLite reuses the ids of deleted rows) comes with another key.

    A delivery without a key (made before keys were drawn) gets the old form, id and HMAC.
    """
    if not 0 < delivery_id < 36**13:
        raise ValueError(f"no VERP token for delivery id {delivery_id}")
    ident = _base36(delivery_id)
    if key is None:
        return f"{ident}-{_verp_mac(_verp_keys()[-1], ident)}"
    if not RETURN_KEY.fullmatch(key):
        raise ValueError("not a return path key")
    signed = f"{ident}-{key}"
    return f"{signed}-{_verp_mac(_verp_keys()[-1], signed, version=2)}"


def read_verp_token(token: str) -> ReturnPath:
    """Return the delivery id and key a VERP token names, whatever its case, checked against
    the current and the fallback keys. Whether that delivery still exists, with that key, is
    for the caller to check.

    :raises InvalidToken: not a VERP token, or its signature matches no key.
    """
    parts = token.strip().lower().split("-")
    ident, mac = parts[0], parts[-1]
    key = parts[1] if len(parts) == 3 else None
    well_formed = (
        len(parts) in (2, 3)
        and 0 < len(ident) <= 13
        and len(mac) == 13
        and not ident.startswith("0")
        and (ident + mac).isascii()
        and (ident + mac).isalnum()
        and (key is None or RETURN_KEY.fullmatch(key) is not None)
    )
    if not well_formed:
        raise InvalidToken("not a bounce token")
    signed, version = (ident, 1) if key is None else (f"{ident}-{key}", 2)
    # Every key is tried, so the time taken does not tell which one matched.
    matches = [
        hmac.compare_digest(mac, _verp_mac(secret, signed, version=version))
        for secret in _verp_keys()
    ]
    if not any(matches):
        raise InvalidToken("bounce token signature does not match")
    return ReturnPath(int(ident, 36), key)


def _verp_keys() -> list[str | bytes]:
    """The signing keys, oldest first, as for link tokens."""
    config = current_app.config
    return [*config.get("SECRET_KEY_FALLBACKS", []), config["SECRET_KEY"]]


def _verp_mac(key: str | bytes, signed: str, *, version: int = 1) -> str:
    """The first 64 bits of HMAC-SHA256(signed), under a key derived for VERP alone (and for
    each form of token), as 13 base-36 digits."""
    digest = hmac.digest(_verp_key(key, version), signed.encode(), "sha256")
    return _base36(int.from_bytes(digest[:8], "big")).rjust(13, "0")


@functools.lru_cache(maxsize=16)
def _verp_key(key: str | bytes, version: int) -> bytes:
    """The key of VERP tokens of `version`, derived from a secret key (once per key)."""
    secret = key.encode() if isinstance(key, str) else key
    return hmac.digest(secret, f"mailer.verp.v{version}".encode(), "sha256")


def _base36(number: int) -> str:
    """Write a non-negative integer in lowercase base 36."""
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits
