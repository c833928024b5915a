"""Data protection: subject access, erasure and the retention jobs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from mailer import clock
from mailer import jobs
from mailer.cli.common import app_object
from mailer.database import transaction
from mailer.domain import erasure
from mailer.domain import retention as policy
from mailer.domain import subscriptions
from mailer.domain.subject_access import subject_access
from mailer.errors import InvalidInput
from mailer.extensions import db


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


PAST = {
    "purge": "Purged",
    "erase": "Erased",
    "summarise and delete": "Summarised and deleted",
    "delete": "Deleted",
}


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would go, and change nothing.")
@with_appcontext
def retention(dry_run: bool) -> None:
    """Apply the retention periods now: delete unconfirmed sign-ups, erase people unsubscribed
    long ago, summarise and delete old delivery records, delete old mail kept from the bounce
    inbox and contact messages dealt with long ago (the retention jobs' twin)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    periods = policy.Periods.from_config(app.config)
    due = policy.due(periods, now=clock.now())
    # End the read, so that no transaction stays open while the jobs write.
    db.session.rollback()
    if dry_run:
        click.echo("Dry run: nothing is changed.")
        _report(due, periods, dry_run=True)
        return
    purged = jobs.purge_unconfirmed(app)
    erased = jobs.erase_unsubscribed(app)
    # Shown only on a terminal, for a large backlog; logs and pipes get the counts alone.
    with tqdm(total=due.deliveries, unit="record", desc="Summarising", disable=None) as bar:
        summarised = jobs.summarise_deliveries(app, on_batch=bar.update)
    deleted = jobs.delete_old_inbound(app)
    contact = jobs.delete_old_contact_messages(app)
    _report(policy.Due(purged, erased, summarised, deleted, contact), periods, dry_run=False)


def _report(counts: policy.Due, periods: policy.Periods, *, dry_run: bool) -> None:
    """One line per step: what it did, or on a dry run what it would do."""
    unsubscribed = (
        f"who left (unsubscribed or suppressed) more than {_days(periods.unsubscribed)} ago"
    )
    steps = (
        ("purge", _count(counts.unconfirmed, "unconfirmed sign-up"), _older(periods.unconfirmed)),
        ("erase", _count(counts.unsubscribed, "subscriber"), unsubscribed),
        (
            "summarise and delete",
            _count(counts.deliveries, "delivery record"),
            _older(periods.deliveries),
        ),
        (
            "delete",
            _count(counts.inbound, "message") + " kept from the bounce inbox",
            _older(periods.inbound),
        ),
        (
            "delete",
            _count(counts.contact, "contact message"),
            f"answered or closed more than {_days(periods.contact)} ago",
        ),
    )
    for verb, what, which in steps:
        said = f"Would {verb}" if dry_run else PAST[verb]
        click.echo(f"{said} {what} {which}.")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _days(period: timedelta) -> str:
    return _count(period.days, "day")


def _older(period: timedelta) -> str:
    return f"older than {_days(period)}"


@click.command("purge-unconfirmed")
@with_appcontext
def purge_unconfirmed() -> None:
    """Delete sign-ups never confirmed within MAILER_UNCONFIRMED_RETENTION_DAYS (a job's twin)."""
    count = jobs.purge_unconfirmed(app_object())
    click.echo(f"Purged {count} unconfirmed sign-ups.")


COMMANDS = (
    subject_access_command,
    erase_subscriber,
    retention,
    purge_unconfirmed,
)
