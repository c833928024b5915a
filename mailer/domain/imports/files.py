"""Reading a subscriber list: the CSV file's encoding, its header row and its data rows."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailer.domain.csv_cells import restore_formula
from mailer.domain.subscriptions import CONTROL_CHARACTERS
from mailer.errors import MailerError

if TYPE_CHECKING:
    from _csv import Reader

COLUMNS = ("email", "topics", "frequency", "consent_source", "consent_date", "language")
REQUIRED = ("email", "topics")
SAVE_AS = "open it in your spreadsheet, save it as CSV UTF-8 (comma delimited) and try again"
SHOWN_LENGTH = 80
ESCAPES = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")


class ImportFileError(MailerError):
    """The file as a whole cannot be imported; nothing is changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Record:
    """One data row of the file: the line it starts on and its cells."""

    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """The header row: where each known column is, and the columns ignored."""

    header: tuple[str, ...]
    positions: dict[str, int]
    ignored: tuple[str, ...]

    def cell(self, record: Record, column: str) -> str:
        """The cell of `column` in `record`, without the apostrophe an export puts before a
        formula-like value; "" when the column or the cell is missing."""
        index = self.positions.get(column)
        if index is None or index >= len(record.cells):
            return ""
        return restore_formula(record.cells[index])


def shown(value: str) -> str:
    """`value` made safe to print: control characters escaped, at most SHOWN_LENGTH long."""
    visible = CONTROL_CHARACTERS.sub(
        lambda match: ESCAPES.get(match.group(), f"\\x{ord(match.group()):02x}"), value
    )
    return visible if len(visible) <= SHOWN_LENGTH else visible[: SHOWN_LENGTH - 1] + "…"


def read_file(content: bytes, *, max_bytes: int, max_rows: int) -> tuple[Layout, Iterator[Record]]:
    """The header of a CSV file and an iterator over its non-blank data rows.

    :raises ImportFileError: the file cannot be read, at once or (malformed CSV, too many
        rows) while iterating.
    """
    reader = csv.reader(_lines(_decode(content, max_bytes=max_bytes)), strict=True)
    try:
        header = next(reader, [])
    except csv.Error as error:
        raise _malformed(1, error) from None
    return _layout(header), _records(reader, max_rows=max_rows)


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, each with its line break (CR LF, LF or CR), as the csv module reads
    a file opened with newline=""; one at a time, where a StringIO would hold four bytes a
    character."""
    return (match.group() for match in LINE.finditer(text))


def _decode(content: bytes, *, max_bytes: int) -> str:
    """The text of the file, which must be UTF-8 (with or without a byte order mark)."""
    if len(content) > max_bytes:
        raise ImportFileError(
            f"The file is larger than {max_bytes / 1024 / 1024:g} MB: split it into smaller files"
        )
    if not content.removeprefix(codecs.BOM_UTF8).strip():
        raise ImportFileError("The file is empty")
    utf16 = content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if utf16 or content.count(b"\x00") * 4 > len(content):
        raise ImportFileError(f"The file is saved as UTF-16 text, not UTF-8: {SAVE_AS}")
    if b"\x00" in content:
        raise ImportFileError(
            f"The file contains NUL bytes, so it is not a CSV text file: {SAVE_AS}"
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (line {line} has a character that is not valid UTF-8): "
            + SAVE_AS
        ) from None


def _layout(header: list[str]) -> Layout:
    """Find the known columns by name, whatever their case and surrounding spaces."""
    names = [cell.strip().casefold() for cell in header]
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in positions:
            raise ImportFileError(f"The column {name} appears twice in the header row")
        if name in COLUMNS:
            positions[name] = index
    if not positions:
        raise ImportFileError(_no_header(header))
    for name in REQUIRED:
        if name not in positions:
            raise ImportFileError(f"The header row has no {name} column")
    ignored = tuple(
        shown(cell.strip())
        for cell, name in zip(header, names, strict=True)
        if name and name not in COLUMNS
    )
    return Layout(tuple(header), positions, ignored)


def _no_header(header: list[str]) -> str:
    """Say why the first row is not a header row."""
    if len(header) == 1 and ";" in header[0]:
        return "The columns are separated by semicolons, not commas: " + SAVE_AS
    return (
        "The first line must be a header row naming the columns: email, topics, and "
        "optionally frequency, consent_source and consent_date"
    )


def _records(reader: Reader, *, max_rows: int) -> Iterator[Record]:
    """The data rows with the line each starts on; blank rows are skipped."""
    count = 0
    line = 2
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _malformed(line, error) from None
        if any(cell.strip() for cell in cells):
            count += 1
            if count > max_rows:
                raise ImportFileError(
                    f"The file has more than {max_rows:,} rows: split it into smaller files"
                )
            yield Record(line, tuple(cells))
        line = reader.line_num + 1


def _malformed(line: int, error: csv.Error) -> ImportFileError:
    """The file-level error for a row the csv module cannot read."""
    if "field larger than field limit" in str(error):
        return ImportFileError(
            f"Line {line} has a field longer than {csv.field_size_limit():,} characters: "
            "check that the file is a CSV file and that every quote mark is closed"
        )
    return ImportFileError(f"Line {line} is not valid CSV ({error}): {SAVE_AS}")
