"""The `retention` command: run the four retention jobs now, or count what they would do."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from mailer import clock
from mailer import jobs
from mailer.domain import retention as policy
from mailer.extensions import db

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
    inbox (the retention jobs' twin)."""
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
    _report(policy.Due(purged, erased, summarised, deleted), periods, dry_run=False)


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
