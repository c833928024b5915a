"""The import-subscribers command: check a CSV list of subscribers (a dry run), then import it."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from mailer import clock
from mailer.database import read_only
from mailer.domain.csv_cells import neutralise_formula
from mailer.domain.imports import Progress
from mailer.domain.imports import Report
from mailer.domain.imports import apply_import
from mailer.domain.imports import check_import
from mailer.domain.imports.files import ImportFileError

SHOWN_REJECTIONS = 20


@click.command("import-subscribers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="Import the rows (default: a dry run).")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every rejected row, with its line and reason, to this CSV file.",
)
@with_appcontext
def import_subscribers(file: Path, apply_: bool, rejects: Path | None) -> None:
    """Check a CSV list of subscribers and report on every row; with --apply, import it.

    Columns: email, topics (slugs separated by ;), and optionally frequency (immediate, daily
    or weekly), consent_source and consent_date. Rows with a consent source join as active;
    the others are sent a confirmation email and join when they confirm. The import writes a
    thousand rows at a time: if it stops part way, run it again to add the rest.
    """
    content = file.read_bytes()
    # Opened first, so that a path it cannot write stops the command before any import.
    with _rejects_file(rejects) as out:
        try:
            with _progress_bar(content, apply_=apply_) as progress:
                report = _run(content, file.name, apply_=apply_, progress=progress)
        except ImportFileError as error:
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(2)
        _print_report(report, applied=apply_)
        if out is not None:
            _write_rejects(report, out)
            click.echo(f"Wrote the {report.rejected:,} rejected rows to {rejects}.")


def _run(content: bytes, filename: str, *, apply_: bool, progress: Progress) -> Report:
    """The dry run, or the import (which commits a chunk of rows at a time)."""
    if not apply_:
        with read_only():
            return check_import(content, now=clock.now(), progress=progress)
    return apply_import(
        content,
        actor="cli",
        target="Subscriber",
        filename=filename,
        now=clock.now(),
        progress=progress,
    )


@contextmanager
def _progress_bar(content: bytes, *, apply_: bool) -> Iterator[Progress]:
    """A tqdm bar on stderr, sized by the file's line count (a close estimate of its rows),
    twice over for an import, which checks every row and then writes it."""
    rows = max(content.count(b"\n"), 1)
    description = "Checking, then importing" if apply_ else "Checking"
    with tqdm(total=rows * (2 if apply_ else 1), unit="row", desc=description) as bar:

        def progress(done: int) -> None:
            bar.update(done - bar.n)

        yield progress
        bar.total = bar.n
        bar.refresh()


def _print_report(report: Report, *, applied: bool) -> None:
    """The counts, the rejections by reason and the first rejected rows."""
    click.echo(f"Rows read: {report.rows:,}")
    click.echo(
        f"Accepted: {report.accepted:,} ({report.active:,} active with a consent source, "
        f"{report.pending:,} to be sent a confirmation email)"
    )
    click.echo(f"Rejected: {report.rejected:,}")
    for reason, count in report.reasons():
        click.echo(f"  {reason.value}: {count:,}")
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
    if report.rejections:
        click.echo(f"First {min(report.rejected, SHOWN_REJECTIONS)} rejected rows:")
    for rejection in report.rejections[:SHOWN_REJECTIONS]:
        address = rejection.shown_address or "(blank)"
        click.echo(f"  line {rejection.line}: {address}: {rejection.message}")
    if applied:
        click.echo(
            f"Imported {report.accepted:,} subscribers: {report.active:,} active, "
            f"{report.pending:,} sent a confirmation email."
        )
    else:
        click.echo("Dry run: nothing was imported. Run again with --apply to import.")


@contextmanager
def _rejects_file(path: Path | None) -> Iterator[TextIO | None]:
    """The --rejects file opened for writing (UTF-8 with a byte order mark, which spreadsheets
    need to read it as UTF-8), or None without the option."""
    if path is None:
        yield None
        return
    try:
        out = path.open("w", encoding="utf-8-sig", newline="")
    except OSError as error:
        raise click.BadParameter(error.strerror or str(error), param_hint="--rejects") from None
    with out:
        yield out


def _write_rejects(report: Report, out: TextIO) -> None:
    """Every rejected row: its line, the reason and its cells under the file's own header, so
    that the rows can be corrected and imported again."""
    writer = csv.writer(out)
    writer.writerow(["line", "reason", *(neutralise_formula(cell) for cell in report.header)])
    for rejection in report.rejections:
        cells = [neutralise_formula(cell) for cell in rejection.cells]
        writer.writerow([rejection.line, rejection.message, *cells])
