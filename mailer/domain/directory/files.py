"""Reading the ONS files of a vintage: the CSP names and codes, and the lookup of councils to
partnerships to police force areas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from mailer.errors import MailerError
from mailer.paths import ONS_DATA

ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence "
    "v.3.0. Contains OS data © Crown copyright and database right 2019."
)
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
SHIPPED_FILES = (
    ONS_DATA / "csp-2019-names-and-codes.csv",
    ONS_DATA / "lad-csp-pfa-2019-lookup.csv",
)
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NAME = 120
# "CSP19CD", "LAD21NM", "CSP19NMW": what, the year of the vintage, and which column.
HEADER = re.compile(r"(LAD|CSP|PFA)(\d\d)(CD|NMW|NM)", re.IGNORECASE)
CODES = {
    "CSP": re.compile(r"(E22|W14)\d{6}"),
    "LAD": re.compile(r"[EW]0[6-9]\d{6}"),
    "PFA": re.compile(r"(E23|W15)\d{6}"),
}


class DirectoryFileError(MailerError):
    """A file is not one of the ONS files, or holds a bad row; `message` says where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Names:
    """A partnership's names in a vintage."""

    name: str
    name_cy: str


@dataclass(frozen=True)
class Cover:
    """One row of the lookup: a council, the partnership covering it, its police force area."""

    council_code: str
    council_name: str
    csp_code: str
    pfa_code: str
    pfa_name: str


@dataclass
class Vintage:
    """What the files of one ONS vintage say."""

    names: dict[str, Names] = field(default_factory=dict)
    covers: list[Cover] = field(default_factory=list)


def read_vintage(paths: Sequence[Path] = SHIPPED_FILES) -> Vintage:
    """Read a names file and a lookup file (in any order) and check they agree.

    :raises DirectoryFileError: a file is missing, unreadable or not as ONS publishes it.
    """
    vintage = Vintage()
    kinds: list[str] = []
    for path in paths:
        header, rows = _rows(path)
        columns = _columns(header, path)
        if "LAD" in {key[0] for key in columns}:
            kinds.append("lookup")
            vintage.covers.extend(_covers(rows, columns, path))
        else:
            kinds.append("names")
            vintage.names.update(_names(rows, columns, path))
    if sorted(kinds) != ["lookup", "names"]:
        raise DirectoryFileError(
            "Give one CSP names and codes file and one council to CSP to police force area "
            f"lookup file (got: {', '.join(kinds) or 'no files'})"
        )
    _check_agree(vintage)
    return vintage


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV file in UTF-8."""
    try:
        content = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as error:
        raise DirectoryFileError(f"{path}: {error.strerror or error}") from None
    if len(content) > MAX_FILE_BYTES:
        raise DirectoryFileError(f"{path.name}: larger than 5 MB, not an ONS file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DirectoryFileError(f"{path.name}: not UTF-8 text") from None
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise DirectoryFileError(f"{path.name}: not a CSV file ({error})") from None
    if not table:
        raise DirectoryFileError(f"{path.name}: the file is empty")
    return table[0], table[1:]


def _columns(header: list[str], path: Path) -> dict[tuple[str, str], int]:
    """The position of each column, keyed by (LAD|CSP|PFA, CD|NM|NMW)."""
    columns: dict[tuple[str, str], int] = {}
    for position, title in enumerate(header):
        match = HEADER.fullmatch(title.strip())
        if match:
            columns[(match[1].upper(), match[3].upper())] = position
    needed = [("CSP", "CD"), ("CSP", "NM")]
    if ("LAD", "CD") in columns:
        needed += [("LAD", "NM"), ("PFA", "CD"), ("PFA", "NM")]
    missing = [f"{what}yy{which}" for what, which in needed if (what, which) not in columns]
    if missing:
        raise DirectoryFileError(
            f"{path.name}: not an ONS CSP file: no {', '.join(missing)} column in its header"
        )
    return columns


def _cell(
    row: list[str], columns: dict[tuple[str, str], int], key: tuple[str, str], where: str
) -> str:
    """One cell, checked: a code as ONS writes them, or a name of sensible length."""
    position = columns.get(key)
    value = row[position].strip() if position is not None and position < len(row) else ""
    if key[1] == "CD" and not CODES[key[0]].fullmatch(value):
        raise DirectoryFileError(f"{where}: {value!r} is not a {key[0]} code")
    if key == ("CSP", "NMW"):
        return value[:MAX_NAME]
    if not value or len(value) > MAX_NAME or not value.isprintable():
        raise DirectoryFileError(f"{where}: the {key[0]} name is blank, too long or unprintable")
    return value


def _names(
    rows: list[list[str]], columns: dict[tuple[str, str], int], path: Path
) -> dict[str, Names]:
    names: dict[str, Names] = {}
    for line, row in enumerate(rows, start=2):
        where = f"{path.name} line {line}"
        code = _cell(row, columns, ("CSP", "CD"), where)
        if code in names:
            raise DirectoryFileError(f"{where}: {code} is listed twice")
        names[code] = Names(
            _cell(row, columns, ("CSP", "NM"), where), _cell(row, columns, ("CSP", "NMW"), where)
        )
    if not names:
        raise DirectoryFileError(f"{path.name}: no partnerships in the file")
    return names


def _covers(rows: list[list[str]], columns: dict[tuple[str, str], int], path: Path) -> list[Cover]:
    covers = []
    for line, row in enumerate(rows, start=2):
        where = f"{path.name} line {line}"
        covers.append(
            Cover(
                _cell(row, columns, ("LAD", "CD"), where),
                _cell(row, columns, ("LAD", "NM"), where),
                _cell(row, columns, ("CSP", "CD"), where),
                _cell(row, columns, ("PFA", "CD"), where),
                _cell(row, columns, ("PFA", "NM"), where),
            )
        )
    return covers


def _check_agree(vintage: Vintage) -> None:
    """Every partnership of the lookup is in the names file, and each lies in one force area."""
    areas: dict[str, str] = {}
    for cover in vintage.covers:
        if cover.csp_code not in vintage.names:
            raise DirectoryFileError(
                f"the lookup names {cover.csp_code}, which the names file does not list"
            )
        if areas.setdefault(cover.csp_code, cover.pfa_code) != cover.pfa_code:
            raise DirectoryFileError(f"the lookup puts {cover.csp_code} in two police force areas")
