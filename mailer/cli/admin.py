"""Setting up: staff accounts, API keys, demo content and DKIM keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.cli import with_appcontext

from mailer import clock
from mailer.database import transaction
from mailer.delivery.dkim import MIN_RSA_BITS
from mailer.delivery.dkim import DkimKey
from mailer.delivery.dkim import PrivateKey
from mailer.delivery.dkim import is_dns_name
from mailer.domain import staff
from mailer.domain.topics import seed_topics
from mailer.errors import FieldErrors
from mailer.models import StaffRole


@click.command("seed-topics")
@with_appcontext
def seed_topics_command() -> None:
    """Create the demo topics (funding, events, ...) that do not exist yet."""
    with transaction():
        added = seed_topics()
    click.echo(f"Added {added} topics.")


@click.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_staff(email: str, role: str, password_stdin: bool) -> None:
    """Add a staff account (asks for the password twice unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with transaction():
        user = staff.create_staff(
            email, password, role=StaffRole(role), actor="cli", now=clock.now()
        )
    click.echo(f"Added {user.email} as {user.role.value}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Publish the nine news items of the CSP page, at their dates, unless already there."""
    from mailer.domain.demo import seed_demo

    try:
        with transaction():
            added = seed_demo(actor="cli", now=clock.now())
    except FieldErrors as error:
        raise click.ClickException(
            f"a demo item is not valid, nothing was added: {error}"
        ) from None
    click.echo(f"Added {added} news items.")


@click.command("seed-practice-demo")
@with_appcontext
def seed_practice_demo_command() -> None:
    """Publish the synthetic demo case studies of the effective practice library, unless
    already there (load the CSP directory first to link them to their partnerships)."""
    from mailer.domain.practice_demo import seed_practice_demo

    with transaction():
        added = seed_practice_demo(now=clock.now())
    click.echo(f"Added {added} synthetic case studies.")


@click.command("create-api-key")
@click.argument("name")
@with_appcontext
def create_api_key(name: str) -> None:
    """Make a key for the JSON API and print it; the key is shown this once and never again."""
    with transaction():
        made = staff.create_api_key(name, created_by=None, actor="cli", now=clock.now())
    click.echo(f"Made API key {made.key.id} ({made.key.name}); store it now, it is not kept:")
    click.echo(made.plaintext)


# One string of a TXT record holds at most 255 bytes (RFC 1035 3.3); longer records are
# published as several strings, which receivers join.
TXT_STRING_MAX = 255


def _dns_name(context: click.Context, param: click.Parameter, value: str) -> str:
    """Check a --selector or --domain; domains are written in lower case."""
    if not is_dns_name(value.rstrip(".")):
        raise click.BadParameter(f"{value!r} is not a DNS name")
    return value.rstrip(".").lower() if param.name == "domain" else value


@click.command("dkim-keygen")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["rsa", "ed25519"]),
    default="rsa",
    show_default=True,
    help="rsa signs for every receiver; ed25519 adds a second signature beside it.",
)
@click.option(
    "--bits",
    type=click.IntRange(MIN_RSA_BITS, 4096),
    default=MIN_RSA_BITS,
    show_default=True,
    help="RSA key length.",
)
@click.option(
    "--selector", required=True, callback=_dns_name, help="Selector to publish the key under."
)
@click.option(
    "--domain", required=True, callback=_dns_name, help="Signing domain (MAILER_DKIM_DOMAIN)."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write the private key to (PEM, mode 0600).",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def dkim_keygen(kind: str, bits: int, selector: str, domain: str, out: Path, force: bool) -> None:
    """Write a new DKIM private key and print the DNS TXT record that publishes it."""
    key: PrivateKey
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        _write_private(out, pem, force=force)
    except FileExistsError:
        raise click.ClickException(f"{out} exists; pass --force to replace it") from None
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    dkim_key = DkimKey.from_private_key(key, selector=selector, domain=domain)
    click.echo(f"Wrote the private key to {out} (mode 0600). Publish this DNS record:", err=True)
    click.echo(dns_record_line(dkim_key))


def dns_record_line(key: DkimKey) -> str:
    """The zone-file line of the key's TXT record, in strings of at most 255 characters."""
    record = key.txt_record()
    strings = [record[i : i + TXT_STRING_MAX] for i in range(0, len(record), TXT_STRING_MAX)]
    quoted = " ".join(f'"{string}"' for string in strings)
    return f"{key.dns_name}  TXT  {quoted}"


def _write_private(path: Path, data: bytes, *, force: bool) -> None:
    """Write `data` readable by the owner alone; refuse to replace a file unless `force`.

    :raises FileExistsError: the file exists and `force` is off.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    with os.fdopen(os.open(path, flags, 0o600), "wb") as file:
        # A replaced file keeps its old mode unless it is set again.
        os.fchmod(file.fileno(), 0o600)
        file.write(data)


COMMANDS = (
    seed_topics_command,
    seed_demo_command,
    seed_practice_demo_command,
    create_staff,
    create_api_key,
    dkim_keygen,
)
