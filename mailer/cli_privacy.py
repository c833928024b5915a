"""Commands for data protection requests: a copy of what is held about an address, erasure."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from mailer import clock
from mailer.database import transaction
from mailer.domain import erasure
from mailer.domain import subscriptions
from mailer.domain.subject_access import subject_access
from mailer.errors import InvalidInput


@click.command("subject-access")
@click.argument("email")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON to this file (default: standard output).",
)
@with_appcontext
def subject_access_command(email: str, output: Path | None) -> None:
    """Print everything held about an address as JSON (a subject access request)."""
    address = _address(email)
    if output is not None and output.exists():
        raise click.UsageError(f"{output} exists already; choose another file")
    with transaction():
        document = subject_access(address, actor="cli", now=clock.now())
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    output.chmod(0o600)
    click.echo(f"Wrote what is held about {address} to {output}.", err=True)


@click.command("erase-subscriber")
@click.argument("email")
@click.option("--reason", required=True, help="Why (an erasure request of a date, say).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def erase_subscriber(email: str, reason: str, yes: bool) -> None:
    """Erase a subscriber: their address and personal data go, and only a hash of the
    address stays on the suppression list, so that no import can mail them again."""
    address = _address(email)
    if not yes:
        click.confirm(f"Erase {address} for good?", abort=True, err=True)
    try:
        with transaction():
            subscriber = subscriptions.find_subscriber(address, lock=True)
            if subscriber is None:
                raise click.ClickException(f"no subscriber with the address {address}")
            erasure.erase(subscriber, why=reason, actor="cli", now=clock.now())
    except InvalidInput as error:
        raise click.UsageError(error.message) from None
    click.echo(f"Erased subscriber #{subscriber.id}; the address is now only a hash.")


def _address(email: str) -> str:
    """The normalised address, or a usage error (exit 2)."""
    try:
        return subscriptions.normalise_address(email)
    except InvalidInput as error:
        raise click.UsageError(error.message) from None
