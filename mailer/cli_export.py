"""The `export-subscribers` command: the subscriber list as CSV, to a file or stdout."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from mailer import clock
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import subscriber_admin
from mailer.domain import subscriber_export
from mailer.domain.subscriber_admin import Filters
from mailer.errors import InvalidInput
from mailer.models import Frequency
from mailer.models import SubscriberStatus

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
