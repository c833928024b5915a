"""The CSP directory: loading the ONS lists, and the yearly reminders to partnerships."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from mailer import clock
from mailer.database import read_only
from mailer.database import transaction
from mailer.domain.directory import self_service
from mailer.domain.directory.files import SHIPPED_FILES
from mailer.domain.directory.files import DirectoryFileError
from mailer.domain.directory.files import read_vintage
from mailer.domain.directory.loading import Changes
from mailer.domain.directory.loading import apply_load
from mailer.domain.directory.loading import plan_load


@click.command("load-csps")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what would change, and change nothing.")
@with_appcontext
def load_csps(files: tuple[Path, ...], dry_run: bool) -> None:
    """Load the ONS list of Community Safety Partnerships into the directory, in one go.

    FILES are a names and codes file and a council to CSP to police force area lookup; by
    default the 2019 files shipped in data/ons/. Partnerships missing from the list end, with
    their successor when their councils now belong to one partnership. Loading the same files
    again changes nothing.
    """
    try:
        vintage = read_vintage(files or SHIPPED_FILES)
    except DirectoryFileError as error:
        raise click.ClickException(error.message) from None
    if dry_run:
        with read_only():
            changes = plan_load(vintage)
    else:
        with transaction():
            changes = apply_load(vintage, actor="cli", now=clock.now())
    _print_changes(changes, applied=not dry_run)


def _print_changes(changes: Changes, *, applied: bool) -> None:
    """Each change by kind, then a line that says whether anything was written."""
    if changes.empty:
        click.echo("No changes: the directory already matches these files.")
        return
    for code, name in changes.added:
        click.echo(f"Added: {code} {name}")
    for code, old, new in changes.renamed:
        click.echo(f"Renamed: {code} {old} -> {new}")
    for code, name, successor in changes.merged:
        click.echo(f"Merged: {code} {name} -> {successor}")
    for code, name in changes.ended:
        click.echo(f"Ended: {code} {name}")
    counts = changes.counts()
    click.echo(
        f"{counts['added']} added, {counts['renamed']} renamed, {counts['merged']} merged, "
        f"{counts['ended']} ended, {counts['coverage_changed']} with other councils or police "
        f"force area, {counts['places']} councils or police force areas added or renamed."
    )
    if applied:
        click.echo("Loaded: the directory now matches these files.")
    else:
        click.echo("Dry run: nothing was changed. Run again without --dry-run to load.")


@click.command("remind-csps")
@click.option("--dry-run", is_flag=True, help="List who would be asked, and send nothing.")
@with_appcontext
def remind_csps(dry_run: bool) -> None:
    """Email each partnership whose contact details were last confirmed a year ago or more
    (and that was not asked in the last year) a link to confirm them; the scheduler's
    remind-csps job does this every day."""
    if dry_run:
        with read_only():
            due = self_service.due_for_reminder(now=clock.now())
            for csp in due:
                click.echo(f"Would ask: {csp.code} {csp.name} <{csp.email}>")
        click.echo(f"Dry run: {len(due)} partnerships would be asked; nothing was sent.")
        return
    with transaction():
        count = self_service.remind_due(now=clock.now(), actor="cli")
    click.echo(f"Asked {count} partnerships to confirm their contact details.")


COMMANDS = (load_csps, remind_csps)
