"""Signed link tokens, each bound to one purpose, verifiable with older keys."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from typing import Any
from typing import Protocol

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from mailer.errors import ExpiredToken
from mailer.errors import InvalidToken


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    MANAGE = "manage"
    UNSUBSCRIBE = "unsubscribe"


def _max_age(purpose: Purpose) -> int | None:
    """Seconds a token of `purpose` stays valid; unsubscribe links never expire."""
    config = current_app.config
    ages: dict[Purpose, int | None] = {
        Purpose.CONFIRM: config["CONFIRM_TOKEN_MAX_AGE"],
        Purpose.MANAGE: config["MANAGE_TOKEN_MAX_AGE"],
        Purpose.UNSUBSCRIBE: None,
    }
    return ages[purpose]


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    """Build the serializer for `purpose`: the newest key signs, all keys verify."""
    config = current_app.config
    keys = [*config.get("SECRET_KEY_FALLBACKS", []), config["SECRET_KEY"]]
    return URLSafeTimedSerializer(
        keys,
        salt=f"mailer.{purpose.value}.v1",
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
    """What a subscriber link token names: the subscriber, its link version, its generation."""

    __slots__ = ("generation", "subscriber_id", "token_version")

    def __init__(self, subscriber_id: int, token_version: int, generation: int | None) -> None:
        self.subscriber_id = subscriber_id
        self.token_version = token_version
        self.generation = generation


class SubscriberLike(Protocol):
    """What a link token is made from: any object with these attributes."""

    id: int
    token_version: int
    generation: int


def subscriber_token(purpose: Purpose, subscriber: SubscriberLike) -> str:
    """Make a link token for one subscriber; confirm tokens also carry the generation."""
    payload: dict[str, Any] = {"s": subscriber.id, "v": subscriber.token_version}
    if purpose is Purpose.CONFIRM:
        payload["g"] = subscriber.generation
    return make_token(purpose, payload)


def read_subscriber_token(purpose: Purpose, token: str) -> SubscriberRef:
    """Return what a subscriber link token names, or raise InvalidToken."""
    payload = read_token(purpose, token)
    subscriber_id, version = payload.get("s"), payload.get("v")
    generation = payload.get("g")
    if not isinstance(subscriber_id, int) or not isinstance(version, int):
        raise InvalidToken("payload does not name a subscriber")
    if purpose is Purpose.CONFIRM and not isinstance(generation, int):
        raise InvalidToken("confirmation payload has no generation")
    return SubscriberRef(subscriber_id, version, generation)


def subscriber_token_maker(purpose: Purpose) -> Callable[[int, int], str]:
    """A fast maker of manage or unsubscribe tokens from (subscriber id, token version), with
    the serializer built once: the same tokens as `subscriber_token`."""
    if purpose is Purpose.CONFIRM:
        raise ValueError("confirmation tokens carry a generation; use subscriber_token")
    dumps = _serializer(purpose).dumps

    def make(subscriber_id: int, token_version: int) -> str:
        return str(dumps({"s": subscriber_id, "v": token_version}))

    return make
