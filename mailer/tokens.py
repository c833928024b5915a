"""Signed link tokens, each bound to one purpose, verifiable with older keys."""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import uuid
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any
from typing import Protocol
from typing import TypeGuard
from typing import cast

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.encoding import int_to_bytes
from itsdangerous.encoding import want_bytes

from mailer.errors import ExpiredToken
from mailer.errors import InvalidToken

# A message of a send run is rendered once for many readers with marks where each reader's
# manage and unsubscribe tokens go, filled in per reader (delivery.fanout). A mark is one of
# these prefixes and a random part made for that message alone, so no text an editor wrote can
# be taken for one; news input may not hold the prefixes at all.
MANAGE_MARK_PREFIX = "Zq9manage"
UNSUBSCRIBE_MARK_PREFIX = "Zq9unsubscribe"
LINK_MARK = re.compile(f"{MANAGE_MARK_PREFIX}|{UNSUBSCRIBE_MARK_PREFIX}")


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    MANAGE = "manage"
    DATA_COPY = "data-copy"
    UNSUBSCRIBE = "unsubscribe"
    # The link in an invitation to the staff area, where the new member sets a password.
    STAFF_INVITE = "staff-invite"
    # The link that carries out a subscriber's request (more topics, a new address).
    CHANGE = "change"
    # A partnership's link to review and confirm its entry in the CSP directory.
    CSP_CONTACT = "csp-contact"
    # A case study submitter's link to their draft.
    CASE_STUDY = "case-study"


def _max_age(purpose: Purpose) -> int | None:
    """Seconds a token of `purpose` stays valid; unsubscribe links never expire."""
    config = current_app.config
    ages: dict[Purpose, int | None] = {
        Purpose.CONFIRM: config["CONFIRM_TOKEN_MAX_AGE"],
        Purpose.MANAGE: config["MANAGE_TOKEN_MAX_AGE"],
        Purpose.DATA_COPY: config["DATA_COPY_TOKEN_MAX_AGE"],
        Purpose.UNSUBSCRIBE: None,
        Purpose.STAFF_INVITE: config["STAFF_INVITE_TOKEN_MAX_AGE"],
        Purpose.CHANGE: config["CONFIRM_TOKEN_MAX_AGE"],
        Purpose.CSP_CONTACT: config["CSP_LINK_TOKEN_MAX_AGE"],
        Purpose.CASE_STUDY: config["CASE_STUDY_LINK_TOKEN_MAX_AGE"],
    }
    return ages[purpose]


def _serializer(
    purpose: Purpose, *, signer: type[TimestampSigner] = TimestampSigner
) -> URLSafeTimedSerializer:
    """Build the serializer for `purpose`: the newest key signs, all keys verify."""
    config = current_app.config
    keys = [*config.get("SECRET_KEY_FALLBACKS", []), config["SECRET_KEY"]]
    return URLSafeTimedSerializer(
        keys,
        salt=f"mailer.{purpose.value}.v1",
        signer=signer,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def make_token(purpose: Purpose, payload: dict[str, Any]) -> str:
    """Sign `payload` (opaque ids only, never an address) for one purpose."""
    return str(_serializer(purpose).dumps(payload))


def read_token(purpose: Purpose, token: str) -> dict[str, Any]:
    """Return the payload of a token of `purpose`.

    :raises ExpiredToken: the signature is good but older than the purpose allows.
    :raises InvalidToken: tampered, signed for another purpose, or not a token at all.
    """
    try:
        payload = _serializer(purpose).loads(token, max_age=_max_age(purpose))
    except SignatureExpired as error:
        raise ExpiredToken(str(error)) from None
    except BadSignature as error:
        raise InvalidToken(str(error)) from None
    if not isinstance(payload, dict):
        raise InvalidToken("payload is not an object")
    return payload


class SubscriberRef:
    """What a subscriber link token names: the subscriber, its link version, its generation,
    and the second the subscriber was created (confirmation links; None in older ones)."""

    __slots__ = ("created", "generation", "subscriber_id", "token_version")

    def __init__(
        self, subscriber_id: int, token_version: int, generation: int | None, created: int | None
    ) -> None:
        self.subscriber_id = subscriber_id
        self.token_version = token_version
        self.generation = generation
        self.created = created


class SubscriberLike(Protocol):
    """What a link token is made from: any object with these attributes."""

    id: int
    token_version: int
    generation: int
    created_at: datetime


class DataCopyHolder(SubscriberLike, Protocol):
    """What a data-copy link is made from: a subscriber and the copies they have taken."""

    data_copies: int


def created_second(subscriber: SubscriberLike) -> int:
    """The second a subscriber was created, which tells them apart from a later subscriber
    given the same id (SQLite reuses a deleted row's id, such as a purged sign-up's)."""
    return int(subscriber.created_at.timestamp())


def subscriber_token(purpose: Purpose, subscriber: SubscriberLike) -> str:
    """Make a link token for one subscriber. Confirmation tokens also carry the generation
    and the second the subscriber was created: only never-confirmed sign-ups are ever
    deleted, so only their links could name a later subscriber."""
    payload: dict[str, Any] = {"s": subscriber.id, "v": subscriber.token_version}
    if purpose is Purpose.CONFIRM:
        payload["g"] = subscriber.generation
        payload["t"] = created_second(subscriber)
    return make_token(purpose, payload)


def data_copy_token(subscriber: DataCopyHolder) -> str:
    """Make a link to a copy of a subscriber's data. It names the copies taken so far, so
    taking one spends it (and any other sent before), and the second the subscriber was
    created."""
    payload = {
        "s": subscriber.id,
        "v": subscriber.token_version,
        "c": subscriber.data_copies,
        "t": created_second(subscriber),
    }
    return make_token(Purpose.DATA_COPY, payload)


def read_data_copy_token(token: str) -> tuple[int, int, int, int]:
    """Return what a data-copy link names: (subscriber id, link version, copies taken, second
    the subscriber was created), or raise InvalidToken (ExpiredToken after its hour)."""
    payload = read_token(Purpose.DATA_COPY, token)
    subscriber_id, version, copies, created = (payload.get(key) for key in ("s", "v", "c", "t"))
    if not (_whole(subscriber_id) and _whole(version) and _whole(copies) and _whole(created)):
        raise InvalidToken("payload does not name a data copy")
    return subscriber_id, version, copies, created


def csp_token(csp_id: int, links_used: int) -> str:
    """Make a partnership's link to its directory entry; it names the links used so far, so
    using it spends it (and any other sent before)."""
    return make_token(Purpose.CSP_CONTACT, {"p": csp_id, "n": links_used})


def read_csp_token(token: str) -> tuple[int, int]:
    """Return what a partnership's link names: (CSP id, links used when it was sent), or
    raise InvalidToken (ExpiredToken once too old)."""
    payload = read_token(Purpose.CSP_CONTACT, token)
    csp_id, used = payload.get("p"), payload.get("n")
    if not (_whole(csp_id) and _whole(used)):
        raise InvalidToken("payload does not name a partnership")
    return csp_id, used


def case_study_token(case_study_id: int, links_used: int) -> str:
    """Make a submitter's link to their case study; it names the links used so far, so using
    it spends it (and any other sent before)."""
    return make_token(Purpose.CASE_STUDY, {"c": case_study_id, "n": links_used})


def read_case_study_token(token: str) -> tuple[int, int]:
    """Return what a case study link names: (case study id, links used when it was sent), or
    raise InvalidToken (ExpiredToken once too old)."""
    payload = read_token(Purpose.CASE_STUDY, token)
    case_study_id, used = payload.get("c"), payload.get("n")
    if not (_whole(case_study_id) and _whole(used)):
        raise InvalidToken("payload does not name a case study")
    return case_study_id, used


def read_subscriber_token(purpose: Purpose, token: str) -> SubscriberRef:
    """Return what a subscriber link token names, or raise InvalidToken."""
    payload = read_token(purpose, token)
    subscriber_id, version = payload.get("s"), payload.get("v")
    generation, created = payload.get("g"), payload.get("t")
    if not _whole(subscriber_id) or not _whole(version):
        raise InvalidToken("payload does not name a subscriber")
    if purpose is Purpose.CONFIRM and not _whole(generation):
        raise InvalidToken("confirmation payload has no generation")
    if created is not None and not _whole(created):
        raise InvalidToken("payload has a bad creation time")
    return SubscriberRef(subscriber_id, version, generation, created)


def change_token(subscriber: SubscriberLike, event_id: int) -> str:
    """The link token that carries out the request recorded as consent event `event_id`."""
    payload = {
        "s": subscriber.id,
        "v": subscriber.token_version,
        "t": created_second(subscriber),
        "e": event_id,
    }
    return make_token(Purpose.CHANGE, payload)


def read_change_token(token: str) -> tuple[SubscriberRef, int]:
    """Return the subscriber and the request a change link names, or raise InvalidToken."""
    payload = read_token(Purpose.CHANGE, token)
    subscriber_id, version, created, event_id = (payload.get(key) for key in "svte")
    if not (_whole(subscriber_id) and _whole(version) and _whole(created) and _whole(event_id)):
        raise InvalidToken("payload does not name a request")
    return SubscriberRef(subscriber_id, version, None, created), event_id


def staff_invite_token(staff_id: int, session_version: int) -> str:
    """The link token of an invitation: it works while the account's session version is the
    one it names, so setting the password, or a newer invitation, ends it."""
    return make_token(Purpose.STAFF_INVITE, {"u": staff_id, "v": session_version})


def read_staff_invite_token(token: str) -> tuple[int, int]:
    """Return (staff id, session version) of an invitation link, or raise InvalidToken
    (ExpiredToken once it is older than STAFF_INVITE_TOKEN_MAX_AGE)."""
    payload = read_token(Purpose.STAFF_INVITE, token)
    staff_id, version = payload.get("u"), payload.get("v")
    if not _whole(staff_id) or not _whole(version):
        raise InvalidToken("payload does not name a staff account")
    return staff_id, version


def _whole(value: Any) -> TypeGuard[int]:
    """Whether a payload value is an integer (JSON true and false are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


class _KeyOnce(TimestampSigner):
    """A signer that derives its key once rather than for every signature."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._key = super().derive_key()

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return self._key if secret_key is None else super().derive_key(secret_key)


def subscriber_token_maker(purpose: Purpose) -> Callable[[int, int], str]:
    """A fast maker of manage or unsubscribe tokens from (subscriber id, token version): the
    same tokens, byte for byte, as `subscriber_token`, for a send run's thousands. It does
    what itsdangerous's URLSafeTimedSerializer does (compact JSON, compressed when zlib makes
    it shorter, URL-safe base64; the time; an HMAC-SHA256 under the key derived once) with
    one-shot calls, since the payload is two integers."""
    if purpose is Purpose.CONFIRM:
        raise ValueError("confirmation tokens carry a generation; use subscriber_token")
    signer = cast(TimestampSigner, _serializer(purpose, signer=_KeyOnce).make_signer())
    key, sep = signer.derive_key(), want_bytes(signer.sep)
    stamps: dict[int, bytes] = {}

    def make(subscriber_id: int, token_version: int) -> str:
        payload = b'{"s":%d,"v":%d}' % (subscriber_id, token_version)
        compressed = zlib.compress(payload)
        if len(compressed) < len(payload) - 1:
            payload = b"." + base64_encode(compressed)
        else:
            payload = base64_encode(payload)
        second = signer.get_timestamp()
        stamp = stamps.get(second)
        if stamp is None:
            stamps.clear()
            stamp = stamps[second] = base64_encode(int_to_bytes(second))
        value = payload + sep + stamp
        mac = hmac.digest(key, value, "sha256")
        return (value + sep + base64_encode(mac)).decode()

    return make


# The Message-IDs we make: a version 4 UUID (122 bits from the operating system's random
# source) in hex, at our domain. Only such an id can tie a report to one of our emails.
OUR_MESSAGE_ID = re.compile(r"<[0-9a-f]{32}@[^<>@\s]+>")


def new_message_id(domain: str) -> str:
    """Return a fresh, unguessable Message-ID at `domain`, for every email we send: anyone
    who can guess one can complain about that email in its reader's name."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def is_our_message_id(value: str) -> bool:
    """Whether a Message-ID has the unguessable form we give every email (those of older
    emails, made with the `random` module, do not)."""
    return OUR_MESSAGE_ID.fullmatch(value.strip()) is not None
