"""Subscribers in bulk: import and export CSV, and revoking a subscriber's links."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from typing import TextIO

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from mailer import clock
from mailer.database import read_only
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import subscriber_admin
from mailer.domain import subscriber_export
from mailer.domain import subscriptions
from mailer.domain.csv_cells import neutralise_formula
from mailer.domain.imports import Progress
from mailer.domain.imports import Report
from mailer.domain.imports import apply_import
from mailer.domain.imports import check_import
from mailer.domain.imports.files import ImportFileError
from mailer.domain.subscriber_admin import Filters
from mailer.errors import InvalidInput
from mailer.models import Frequency
from mailer.models import SubscriberStatus

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
    or weekly), consent_source, consent_date and language (en or cy). Rows with a consent
    source join as active; the others are sent a confirmation email and join when they
    confirm. The import writes a thousand rows at a time: if it stops part way, run it again
    to add the rest.
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


# The option that sets each filter, for the messages of bad values.
OPTIONS = {"q": "--search", "status": "--status", "topic": "--topic", "frequency": "--frequency"}


@click.command("export-subscribers")
@click.option("--status", type=click.Choice([s.value for s in SubscriberStatus]))
@click.option("--topic", metavar="SLUG", help="Only those who follow this topic.")
@click.option(
    "--frequency",
    type=click.Choice([f.value for f in Frequency]),
    help="Only those with a subscription of this frequency.",
)
@click.option("--search", metavar="TEXT", help="Only addresses that contain TEXT, in any case.")
@click.option(
    "--output",
    "-o",
    default="-",
    show_default=True,
    metavar="PATH",
    help="The file to write, or - for standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@with_appcontext
def export_subscribers(
    status: str | None,
    topic: str | None,
    frequency: str | None,
    search: str | None,
    output: str,
    force: bool,
) -> None:
    """Write the subscribers (never the erased ones) as CSV that import-subscribers reads back.

    The file starts with a UTF-8 byte order mark and has CRLF line endings, for Excel.
    """
    filters = _filters({"q": search, "status": status, "topic": topic, "frequency": frequency})
    target = None if output == "-" else _target(Path(output), force=force)
    rows = _audit(filters)
    if target is None:
        with click.open_file("-", "wb") as stdout:
            _write(stdout, subscriber_export.export_rows(filters))
        click.echo(f"Exported {_subscribers(rows)}.", err=True)
        return
    try:
        _write_file(target, filters, rows=rows, force=force)
    except OSError as error:
        raise click.ClickException(f"could not write {target}: {error.strerror}") from None
    click.echo(f"Exported {_subscribers(rows)} to {target}.")


def _target(path: Path, *, force: bool) -> Path:
    """The output file, if it can be written.

    :raises click.BadParameter: it exists (without `force`), is a folder, or its folder is not.
    """
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder", param_hint="--output")
    if not path.parent.is_dir():
        raise click.BadParameter(f"there is no folder {path.parent}", param_hint="--output")
    if path.exists() and not force:
        raise click.BadParameter(
            f"{path} exists; add --force to overwrite it", param_hint="--output"
        )
    return path


def _filters(values: dict[str, str | None]) -> Filters:
    """The filters of the options.

    :raises click.BadParameter: one is not allowed (a usage error: exit status 2).
    """
    try:
        return subscriber_admin.parse_filters(values)
    except InvalidInput as error:
        raise click.BadParameter(error.message, param_hint=OPTIONS[error.field]) from None


def _audit(filters: Filters) -> int:
    """Record the export in the audit log (committed) and return how many rows it has."""
    with transaction():
        rows = subscriber_export.count(filters)
        detail = {"filters": filters.as_args(), "rows": rows}
        audit.record("cli", "subscribers.export", "Subscriber", now=clock.now(), detail=detail)
    return rows


def _write_file(target: Path, filters: Filters, *, rows: int, force: bool) -> None:
    """Write the export beside `target`, with a progress bar, then move it into place: a
    failed export leaves no half-written file, an existing one is replaced only with
    `force`, and the new one is readable by its owner only (it holds personal data)."""
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        read = subscriber_export.export_rows(filters)
        with (
            os.fdopen(handle, "wb") as stream,
            tqdm(read, total=rows, unit="row", desc="Exporting") as progress,
        ):
            _write(stream, progress)
        _move(Path(partial), target, force=force)
    finally:
        Path(partial).unlink(missing_ok=True)


def _move(partial: Path, target: Path, *, force: bool) -> None:
    """Put `partial` at `target`; without `force`, never over a file that appeared meanwhile."""
    if force:
        partial.replace(target)
        return
    try:
        os.link(partial, target)
    except FileExistsError:
        raise click.BadParameter(
            f"{target} exists; add --force to overwrite it", param_hint="--output"
        ) from None


def _write(stream: IO[bytes], rows: Iterable[list[str]]) -> None:
    """Write the CSV of `rows` to `stream`, a chunk at a time."""
    for chunk in subscriber_export.csv_chunks(rows):
        stream.write(chunk.encode("utf-8"))
    stream.flush()


def _subscribers(count: int) -> str:
    return f"{count} subscriber{'' if count == 1 else 's'}"


@click.command("revoke-links")
@click.argument("email")
@with_appcontext
def revoke_links(email: str) -> None:
    """Make every link sent so far to this subscriber stop working (a leaked email, say)."""
    address = subscriptions.normalise_address(email)
    with transaction():
        subscriber = subscriptions.find_subscriber(address)
        if subscriber is None:
            raise click.ClickException(f"no subscriber with the address {address}")
        subscriptions.revoke_links(subscriber, now=clock.now())
    click.echo(f"Revoked every link sent to {address}; new emails carry new links.")


COMMANDS = (
    import_subscribers,
    export_subscribers,
    revoke_links,
)
