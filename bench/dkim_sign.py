"""DKIM signatures per second on one digest-sized copy, by way of signing.

Prints, for a filled-in copy of --size bytes or a little more (laid out by the fan-out code, as the
worker sends it): dkimpy alone with RSA-2048 (its pure-Python RSA, the key parsed on every
call), the Signer's RSA (dkimpy with the private-key step in OpenSSL), dkimpy's Ed25519, and
the Signer with both keys (two signatures per message). Ends with one RESULT line:

    RESULT bytes=N dkimpy_rsa_per_s=... fast_rsa_per_s=... ed25519_per_s=... rsa_ed25519_per_s=...
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa

from mailer.delivery.compose import Rendered
from mailer.delivery.dkim import CANONICALIZE
from mailer.delivery.dkim import DkimKey
from mailer.delivery.dkim import Signer
from mailer.delivery.dkim import signed_headers
from mailer.delivery.fanout import Filler
from mailer.delivery.fanout import Marks
from mailer.delivery.fanout import Recipient
from mailer.delivery.fanout import prototype

DOMAIN = "news.example.gov.uk"
ITEM_TEXT = (
    "Safer Streets Fund round 6 opens: partnerships can bid for up to £750,000 for "
    "lighting, CCTV and youth outreach in neighbourhoods with high rates of acquisitive "
    "crime. Bids close on 15 January.\n"
)


def digest_copy(size: int) -> bytes:
    """A filled-in digest copy of at least `size` bytes: text and HTML parts, list headers."""
    items = 1
    while len(copy := _copy(items)) < size:
        items += 1
    return copy


def _copy(items: int) -> bytes:
    """A filled-in digest copy listing `items` items."""
    marks = Marks.new()
    links = marks.links(f"https://{DOMAIN}")
    text = "".join(f"{n}. {ITEM_TEXT}\n" for n in range(items))
    text += f"Manage: {links['manage_url']}\nUnsubscribe: {links['unsubscribe_url']}\n"
    html = "".join(f'<p style="margin:0 0 15px">{ITEM_TEXT}</p>\n' for _ in range(items))
    html += f'<p><a href="{links["unsubscribe_url"]}">Unsubscribe</a></p>\n'
    proto = prototype(
        Rendered("CSP news: daily digest, 25 November 2026", text, html),
        marks=marks,
        sender=f"CSP news <news@{DOMAIN}>",
        reply_to=None,
        list_id=f"CSP news <news.{DOMAIN}>",
        base_url=f"https://{DOMAIN}",
        unsubscribe_address=f"unsubscribe@{DOMAIN}",
        feedback_id="digest:daily:news:cspnews",
    )
    filler = Filler(
        manage_token=lambda subscriber, version: f"m{subscriber}.{version}.{'x' * 60}",
        unsubscribe_token=lambda subscriber, version: f"u{subscriber}.{version}.{'y' * 60}",
        date="Wed, 25 Nov 2026 07:01:00 +0000",
    )
    return filler.fill(proto, Recipient("reader@example.org", 1, 1)).data


def per_second(sign: Callable[[], object], seconds: float, repeats: int) -> float:
    """Messages signed per second: the best of `repeats` runs of about `seconds` each."""
    best = 0.0
    for _ in range(repeats):
        count, began = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - began) < seconds:
            sign()
            count += 1
        best = max(best, count / elapsed)
    return best


def main() -> None:
    """Run the bench; print the figures and the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--size", type=int, default=9000, help="bytes of the copy (at least)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per way; the best counts")
    args = parser.parse_args()

    message = digest_copy(args.size)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    rsa_dkim = DkimKey.from_private_key(rsa_key, selector="rsa", domain=DOMAIN)
    ed_dkim = DkimKey.from_private_key(ed_key, selector="ed", domain=DOMAIN)
    include = signed_headers(name for name, _ in dkim.DKIM(message).headers)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    def dkimpy(key: bytes, algorithm: bytes) -> Callable[[], object]:
        return lambda: dkim.sign(
            message,
            b"s",
            DOMAIN.encode(),
            key,
            include_headers=include,
            canonicalize=CANONICALIZE,
            signature_algorithm=algorithm,
        )

    rsa_only, both = Signer(rsa_dkim), Signer(rsa_dkim, ed_dkim)
    ways = {
        "dkimpy_rsa": dkimpy(pem, b"rsa-sha256"),
        "fast_rsa": lambda: rsa_only.sign(message),
        "ed25519": dkimpy(ed_dkim.dkimpy_key, b"ed25519-sha256"),
        "rsa_ed25519": lambda: both.sign(message),
    }
    print(f"message: {len(message)} bytes, h={b':'.join(include).decode()}")
    figures = {}
    for name, sign in ways.items():
        figures[name] = per_second(sign, args.seconds, args.repeats)
        print(f"{name:12s} {figures[name]:9.0f} messages signed/s")
    print(
        f"RESULT bytes={len(message)} "
        + " ".join(f"{name}_per_s={value:.0f}" for name, value in figures.items())
    )


if __name__ == "__main__":
    main()
