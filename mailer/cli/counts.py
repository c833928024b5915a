"""The check of the counts staff pages read: count the deliveries again and put drift right."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from mailer.database import transaction
from mailer.domain import recount


@click.command("recount-runs")
@click.option("--fix", is_flag=True, help="Write the counted figures where they drifted.")
@click.option(
    "--run",
    "run_ids",
    type=click.IntRange(1, 2**31 - 1),
    multiple=True,
    help="Only this run (repeatable); the hourly tallies are then left alone.",
)
@with_appcontext
def recount_runs(fix: bool, run_ids: tuple[int, ...]) -> None:
    """Count each run's deliveries again (and those retention summarised) and compare with
    the counts kept as they settled; say where they drifted, and with --fix put them right.
    Exits with status 1 when something drifted and was not fixed. It reads every delivery:
    run it when the service is quiet."""
    with transaction():
        drifts = recount.recount(fix=fix, run_ids=list(run_ids) or None)
    for drift in drifts:
        where = f"run {drift.run_id}" if drift.run_id is not None else "tallies"
        click.echo(f"{where}: {drift.what} kept {drift.kept}, counted {drift.counted}")
    if not drifts:
        click.echo("The kept counts match the deliveries.")
    elif fix:
        click.echo(f"Put right {len(drifts)} figure{'s' if len(drifts) != 1 else ''}.")
    else:
        raise click.ClickException(
            f"{len(drifts)} figures drifted; run with --fix to put them right"
        )


COMMANDS = (recount_runs,)
