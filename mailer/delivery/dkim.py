"""DKIM: RSA-SHA256 and Ed25519-SHA256 signatures over the exact bytes a message is sent as."""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import dkim  # type: ignore[import-untyped]
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

RSA_SHA256 = b"rsa-sha256"
ED25519_SHA256 = b"ed25519-sha256"
# RFC 8301 section 3.2 and Gmail's sender guidelines: 2048-bit RSA keys or longer.
MIN_RSA_BITS = 2048
# Relaxed header and body canonicalisation survives relays that refold or re-space lines.
CANONICALIZE = (b"relaxed", b"relaxed")
# The headers signed when a message has them (RFC 6376 5.4, RFC 8058 section 4, Gmail's
# Feedback-ID). Each is signed once more than it occurs, so that a copy added on the way
# (a second From, a second List-Unsubscribe) breaks the signature (RFC 6376 5.4.2, 8.15).
SIGNED_HEADERS = (
    b"from",
    b"reply-to",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"feedback-id",
    b"auto-submitted",
    b"mime-version",
    b"content-type",
)
# Signed on every message, so also where it lacks them (a name listed once more than it
# occurs signs its absence): nobody on the way can give a confirmation email a one-click
# unsubscribe of their own, or change whether an email says it was sent automatically.
ALWAYS_SIGNED = frozenset({b"list-unsubscribe", b"list-unsubscribe-post", b"auto-submitted"})
# A selector or domain: dot-separated letter-digit-hyphen labels (RFC 6376 3.1, 3.5).
_DNS_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class DkimKeyError(ValueError):
    """A MAILER_DKIM_* setting names a key that cannot sign; the message names the setting."""


def signed_headers(names: Iterable[bytes]) -> list[bytes]:
    """The h= list for a message with these header names: each signed header it has, as
    often as it has it, then each once more, and those of ALWAYS_SIGNED it lacks once."""
    counts = Counter(name.lower() for name in names)
    present = [name for name in SIGNED_HEADERS if counts[name]]
    once_more = [name for name in SIGNED_HEADERS if counts[name] or name in ALWAYS_SIGNED]
    return [name for name in present for _ in range(counts[name])] + once_more


class _Signed:
    """What dkimpy reads back from a key object's sign(): the signature bytes."""

    def __init__(self, signature: bytes) -> None:
        self.signature = signature


class _PrehashedRsa:
    """An RSA key that signs a SHA-256 digest with PKCS#1 v1.5, as `cryptography` does."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key

    def sign(self, digest: bytes) -> _Signed:
        """Sign the digest of the canonicalised headers."""
        return _Signed(self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())))


class _Dkim(dkim.DKIM):  # type: ignore[misc]
    """dkimpy's DKIM signer with the RSA private-key operation done by OpenSSL.

    dkimpy 1.1.8 hashes the canonicalised headers and signs the hash in `gen_header`: RSA
    with its own pure-Python `RSASSA_PKCS1_v1_5_sign` (some 25 times slower than OpenSSL),
    Ed25519 by calling `pk.sign(digest)` on a key object. For RSA this passes an RSA key
    object down that second branch, so dkimpy still selects, canonicalises and hashes the
    headers and writes and folds the field (its a= tag is written before `gen_header`).
    PKCS#1 v1.5 is deterministic: tests/delivery/test_dkim.py checks that the field is
    byte for byte the one dkimpy makes alone, so a dkimpy release that moves this fails there.
    """

    signature_algorithm: bytes

    def __init__(self, message: bytes, rsa_key: rsa.RSAPrivateKey) -> None:
        super().__init__(message)
        self._rsa = _PrehashedRsa(rsa_key)

    def gen_header(
        self,
        fields: list[tuple[bytes, bytes]],
        include_headers: Sequence[bytes],
        canon_policy: Any,
        header_name: bytes,
        pk: Any,
        standardize: bool = False,
    ) -> bytes:
        """Make the signature field; an RSA one through the key-object branch."""
        header: bytes
        if self.signature_algorithm != RSA_SHA256:
            header = super().gen_header(
                fields, include_headers, canon_policy, header_name, pk, standardize
            )
            return header
        self.signature_algorithm = ED25519_SHA256
        try:
            header = super().gen_header(
                fields, include_headers, canon_policy, header_name, self._rsa, standardize
            )
        finally:
            self.signature_algorithm = RSA_SHA256
        return header


@dataclass(frozen=True)
class DkimKey:
    """A private key and the name its public half is published under in DNS."""

    algorithm: bytes
    selector: str
    domain: str
    private_key: PrivateKey
    # The key as dkimpy's sign() takes it: PKCS#1 PEM for RSA, the base64 seed for Ed25519.
    dkimpy_key: bytes

    @classmethod
    def from_private_key(cls, private_key: PrivateKey, *, selector: str, domain: str) -> DkimKey:
        """Wrap a loaded private key."""
        if isinstance(private_key, rsa.RSAPrivateKey):
            algorithm = RSA_SHA256
            encoded = private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        else:
            algorithm = ED25519_SHA256
            seed = private_key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            encoded = base64.b64encode(seed)
        return cls(algorithm, selector, domain, private_key, encoded)

    @property
    def dns_name(self) -> str:
        """Where receivers look the public key up."""
        return f"{self.selector}._domainkey.{self.domain}"

    def txt_record(self) -> str:
        """The DNS TXT record that publishes the public key."""
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            kind = "rsa"
            der = public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        else:
            kind = "ed25519"
            der = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k={kind}; p={base64.b64encode(der).decode()}"


class Signer:
    """Signs messages with an RSA key and, optionally, an Ed25519 key (RFC 8463 section 6:
    same domain, two selectors); built once per worker."""

    def __init__(self, rsa_key: DkimKey, ed25519_key: DkimKey | None = None) -> None:
        if not isinstance(rsa_key.private_key, rsa.RSAPrivateKey):
            raise TypeError("the first key must be an RSA key")
        self._rsa = rsa_key.private_key
        self.keys = (rsa_key,) if ed25519_key is None else (rsa_key, ed25519_key)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Signer | None:
        """Load the keys named by the MAILER_DKIM_* settings; None when no key file is set.

        :raises DkimKeyError: a key cannot be read or is unfit, or the domain is not the
            From domain or a parent of it.
        """
        if not config.get("DKIM_KEY_FILE"):
            if config.get("DKIM_ED25519_KEY_FILE"):
                raise DkimKeyError(
                    "MAILER_DKIM_ED25519_KEY_FILE needs MAILER_DKIM_KEY_FILE as well: not every "
                    "receiver checks Ed25519 signatures, so each message also needs an RSA one"
                )
            return None
        domain = _domain(config)
        rsa_key = _load_key(config, "DKIM_KEY_FILE", "DKIM_SELECTOR", rsa.RSAPrivateKey, domain)
        if not config.get("DKIM_ED25519_KEY_FILE"):
            return cls(rsa_key)
        ed25519_key = _load_key(
            config,
            "DKIM_ED25519_KEY_FILE",
            "DKIM_ED25519_SELECTOR",
            ed25519.Ed25519PrivateKey,
            domain,
        )
        if ed25519_key.selector == rsa_key.selector:
            raise DkimKeyError(
                "MAILER_DKIM_ED25519_SELECTOR must differ from MAILER_DKIM_SELECTOR: "
                "each key is published under its own selector"
            )
        return cls(rsa_key, ed25519_key)

    def sign(self, message: bytes) -> bytes:
        """Return `message` with its DKIM-Signature fields put in front, the RSA one first.

        :raises ValueError: the message cannot be signed (it has no From header, say).
        """
        try:
            # One parse of the message serves every signature.
            parsed = _Dkim(message, self._rsa)
            include = signed_headers(name for name, _ in parsed.headers)
            fields = [_signature(parsed, key, include) for key in self.keys]
        except dkim.DKIMException as error:
            raise ValueError(f"cannot DKIM-sign the message: {error}") from None
        return b"".join(fields) + message


def _signature(parsed: _Dkim, key: DkimKey, include: list[bytes]) -> bytes:
    """The CRLF-terminated DKIM-Signature field of `key` for the message `parsed` holds."""
    field: bytes = parsed.sign(
        key.selector.encode(),
        key.domain.encode(),
        key.dkimpy_key,
        signature_algorithm=key.algorithm,
        canonicalize=CANONICALIZE,
        include_headers=include,
    )
    return field


def load_private_key(path: Path, *, setting: str) -> PrivateKey:
    """Read an unencrypted PEM private key (PKCS#8, or PKCS#1 for RSA).

    :raises DkimKeyError: the file cannot be read or holds no such key.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DkimKeyError(f"MAILER_{setting}: cannot read {path}: {error.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise DkimKeyError(
            f"MAILER_{setting}: {path} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise DkimKeyError(f"MAILER_{setting}: {path} is neither an RSA nor an Ed25519 key")
    return key


def _load_key(
    config: Mapping[str, Any],
    setting: str,
    selector_setting: str,
    kind: type[PrivateKey],
    domain: str,
) -> DkimKey:
    """Load one key and check it against its settings."""
    key = load_private_key(Path(str(config[setting])), setting=setting)
    expected = "an RSA" if kind is rsa.RSAPrivateKey else "an Ed25519"
    if not isinstance(key, kind):
        raise DkimKeyError(f"MAILER_{setting}: {config[setting]} is not {expected} key")
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise DkimKeyError(
            f"MAILER_{setting}: the RSA key has {key.key_size} bits; "
            f"receivers expect at least {MIN_RSA_BITS}"
        )
    selector = str(config.get(selector_setting) or "")
    if not selector:
        raise DkimKeyError(f"MAILER_{selector_setting} must be set with MAILER_{setting}")
    _check_dns_name(selector, selector_setting)
    return DkimKey.from_private_key(key, selector=selector, domain=domain)


def _domain(config: Mapping[str, Any]) -> str:
    """The signing domain: MAILER_DKIM_DOMAIN, else the From domain; it must align with From."""
    from_domain = parseaddr(str(config["MAIL_FROM"]))[1].rpartition("@")[2].lower()
    domain = str(config.get("DKIM_DOMAIN") or from_domain).lower().rstrip(".")
    _check_dns_name(domain, "DKIM_DOMAIN")
    if "." not in domain:
        raise DkimKeyError(f"MAILER_DKIM_DOMAIN: {domain} is a top-level domain")
    if from_domain != domain and not from_domain.endswith("." + domain):
        raise DkimKeyError(
            f"MAILER_DKIM_DOMAIN: {domain} is neither the From domain ({from_domain!r}, "
            "from MAILER_MAIL_FROM) nor a parent of it, so DMARC would not align"
        )
    return domain


def is_dns_name(value: str) -> bool:
    """True for a name that can be a selector or a signing domain."""
    return len(value) <= 253 and _DNS_NAME.fullmatch(value) is not None


def _check_dns_name(value: str, setting: str) -> None:
    if not is_dns_name(value):
        raise DkimKeyError(f"MAILER_{setting}: {value!r} is not a DNS name")
