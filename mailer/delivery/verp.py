"""Return paths: the VERP envelope sender `bounces+TOKEN@bounce-domain` that names one delivery,
and which of our mailboxes an address received at the bounce inbox is.

The token carries the delivery's id and key with a MAC (see mailer.tokens.verp_token), so a
return path cannot be forged or guessed from another's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from mailer.errors import InvalidToken
from mailer.verp_tokens import ReturnPath
from mailer.verp_tokens import read_verp_token
from mailer.verp_tokens import verp_token

VERP_PREFIX = "bounces+"


class Mailbox(enum.StrEnum):
    BOUNCES = "bounces"
    UNSUBSCRIBE = "unsubscribe"
    POSTMASTER = "postmaster"
    # The VERP form at our domain, with a token that does not verify.
    FORGED = "forged"
    FOREIGN = "foreign"


@dataclass(frozen=True)
class InboxAddresses:
    """The addresses the bounce inbox takes mail for."""

    bounce_domain: str
    unsubscribe: str

    @classmethod
    def from_config(cls, config: Any) -> InboxAddresses:
        """Read the bounce domain and the unsubscribe address from a Flask config mapping."""
        return cls(config["BOUNCE_DOMAIN"].lower(), config["UNSUBSCRIBE_MAILTO"].lower())

    def mailbox(self, address: str) -> Mailbox:
        """Which of our mailboxes an address is (case-insensitive); checks VERP signatures."""
        address = bare_address(address).lower()
        local, _, domain = address.rpartition("@")
        if address == self.unsubscribe:
            return Mailbox.UNSUBSCRIBE
        if domain != self.bounce_domain:
            return Mailbox.FOREIGN
        if local == "postmaster":
            return Mailbox.POSTMASTER
        if not local.startswith(VERP_PREFIX):
            return Mailbox.FOREIGN
        try:
            read_verp_token(local.removeprefix(VERP_PREFIX))
        except InvalidToken:
            return Mailbox.FORGED
        return Mailbox.BOUNCES


def verp_address(delivery_id: int, key: str | None, domain: str) -> str:
    """Return the envelope sender that brings the bounces of one delivery back to us: it
    names the delivery by its id and its key (see mailer.tokens.verp_token)."""
    return f"{VERP_PREFIX}{verp_token(delivery_id, key)}@{domain.lower()}"


def read_verp_address(address: str, *, domain: str) -> ReturnPath:
    """Return the delivery id and key of a VERP return path at `domain`, whatever its case.

    :raises InvalidToken: not a VERP address at that domain, or its token is forged.
    """
    local, _, host = bare_address(address).lower().rpartition("@")
    if host != domain.lower() or not local.startswith(VERP_PREFIX):
        raise InvalidToken("not a bounce address")
    return read_verp_token(local.removeprefix(VERP_PREFIX))


def return_path_in(values: list[str], bounce_domain: str) -> ReturnPath | None:
    """What the first genuine VERP address among header values names."""
    for _, address in getaddresses(values):
        try:
            return read_verp_address(address, domain=bounce_domain)
        except InvalidToken:
            continue
    return None


def bare_address(address: str) -> str:
    """An address without spaces or angle brackets."""
    return address.strip().strip("<>").strip()
