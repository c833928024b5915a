"""Importing a list of subscribers from a CSV file: a dry run that reports on every row, and the
apply, which checks every row again and adds the accepted ones.

The apply works in two phases, so that it never holds the write lock for long (on SQLite every
write transaction locks the whole database). First it reads the file and checks every row
(fields, address normalisation, duplicates) in a read-only transaction, which takes no lock: a
file that cannot be read stops it there with nothing changed. Then it writes a chunk of rows
at a time, each chunk in a short transaction of its own that checks those rows against the
database again (existing subscribers, the suppression list) just before inserting them; other
writers get in between chunks. So an apply that stops part way (an error, the process killed)
keeps the chunks written so far: applying the same file again adds the rest, and reports the
rows already in as already a subscriber.

Rows with a consent source join as active subscribers; the others are sent the usual
confirmation email and join only when they confirm (UK GDPR, PECR).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from functools import partial
from typing import Protocol

from flask import current_app
from sqlalchemy import ARRAY
from sqlalchemy import ColumnElement
from sqlalchemy import String
from sqlalchemy import any_
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from mailer.database import on_postgresql
from mailer.database import read_only
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain.audit import Identified
from mailer.domain.imports.files import Record
from mailer.domain.imports.files import read_file
from mailer.domain.imports.rows import Candidate
from mailer.domain.imports.rows import Reason
from mailer.domain.imports.rows import Rejection
from mailer.domain.imports.rows import RowChecker
from mailer.domain.imports.writes import write_chunk
from mailer.domain.suppressions import address_hash
from mailer.extensions import db
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Suppression
from mailer.models import Topic

# Rows checked against the database, and written, at a time: each chunk of the apply is one
# short write transaction.
CHUNK_ROWS = 1000

# Called with the number of rows done so far. The dry run counts the rows checked; the apply
# counts the rows checked and then, on from there, the rows written, so twice the rows in all.
Progress = Callable[[int], None]


class Claim(Protocol):
    """What an apply holds on to while it writes chunk after chunk (a stored upload, say)."""

    def keep(self) -> None:
        """Raise unless the apply may go on; runs in each chunk's transaction, before it
        writes, and in the final one."""

    def finish(self, report: Report) -> None:
        """Record the outcome; runs in the final transaction, after the last chunk."""

    def release(self) -> None:
        """Let the list be applied again after a failure; runs in a transaction of its own."""


class Unclaimed:
    """The claim of an apply that holds on to nothing (a file given on the command line)."""

    def keep(self) -> None:
        """Nothing can take the file away."""

    def finish(self, report: Report) -> None:
        """Nothing to record but the audit event."""

    def release(self) -> None:
        """Nothing to let go."""


@dataclass
class Report:
    """What an import did or would do: counts, and every rejected row with its reason."""

    header: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    rows: int = 0
    active: int = 0
    pending: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.active + self.pending

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def reasons(self) -> list[tuple[Reason, int]]:
        """How many rows were rejected for each reason, in the order of `Reason`."""
        counts = Counter(rejection.reason for rejection in self.rejections)
        return [(reason, counts[reason]) for reason in Reason if counts[reason]]

    def summary(self) -> dict[str, int]:
        """The counts, as the audit log and the upload record keep them."""
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "active": self.active,
            "pending": self.pending,
        }

    def add(self, added: list[Candidate], refused: list[Rejection]) -> None:
        """Count the rows of a chunk: those added (or that would be) and those refused."""
        self.rejections.extend(refused)
        self.active += sum(1 for candidate in added if candidate.source)
        self.pending += sum(1 for candidate in added if not candidate.source)


def check_import(content: bytes, *, now: datetime, progress: Progress | None = None) -> Report:
    """Report what importing `content` would do, changing nothing (the dry run); run it in a
    `read_only` transaction.

    :raises ImportFileError: the file as a whole cannot be read.
    """
    report = Report()
    for candidates in _checked(content, _topic_ids(), now=now, report=report):
        report.add(*_against_database(candidates))
        _tell(progress, report.rows)
    report.rejections.sort(key=lambda rejection: rejection.line)
    return report


def apply_import(
    content: bytes,
    *,
    actor: str,
    target: Identified | str,
    filename: str,
    now: datetime,
    import_id: int | None = None,
    progress: Progress | None = None,
    claim: Claim | None = None,
) -> Report:
    """Check `content` again and add the subscribers of its accepted rows, with their topics,
    consent records and confirmation emails (queued); audited once, at the end.

    Commits: the rows are checked in a read-only transaction, then written in a transaction
    per chunk (see the module docstring), so the session must have no changes pending. After
    a failure while writing, the chunks written stay, `claim` is released and the audit log
    says what was written (subscribers.import_stopped).

    :raises ImportFileError: the file as a whole cannot be read; nothing was changed.
    """
    claim = claim or Unclaimed()
    report = Report()
    topic_ids, chunks = _check_all(content, report, now=now, claim=claim, progress=progress)
    audited = partial(audit.record, actor, target=target, now=now)
    try:
        _write(
            chunks, topic_ids, report, now=now, import_id=import_id, claim=claim, progress=progress
        )
        with transaction():
            claim.finish(report)
            audited("subscribers.import", detail={"filename": filename, **report.summary()})
    except BaseException as error:
        stopped = {"filename": filename, **report.summary(), "error": type(error).__name__}
        _safely(claim.release, partial(audited, "subscribers.import_stopped", detail=stopped))
        raise
    report.rejections.sort(key=lambda rejection: rejection.line)
    return report


def _check_all(
    content: bytes, report: Report, *, now: datetime, claim: Claim, progress: Progress | None
) -> tuple[dict[str, int], list[list[Candidate]]]:
    """Phase one of the apply: the topics, and the rows whose fields are valid, a list per
    chunk, read without the write lock; the claim is released if the file cannot be read."""
    try:
        with read_only():
            topic_ids = _topic_ids()
            chunks = []
            for candidates in _checked(content, topic_ids, now=now, report=report):
                chunks.append(candidates)
                _tell(progress, report.rows)
    except BaseException:
        _safely(claim.release)
        raise
    return topic_ids, chunks


def _write(
    chunks: list[list[Candidate]],
    topic_ids: dict[str, int],
    report: Report,
    *,
    now: datetime,
    import_id: int | None,
    claim: Claim,
    progress: Progress | None,
) -> None:
    """Phase two of the apply: each chunk's rows checked against the database again and
    written, in a transaction of its own; counted in `report` once committed."""
    for index, candidates in enumerate(chunks):
        if candidates:
            with transaction():
                claim.keep()
                added, refused = _against_database(candidates)
                raced = write_chunk(added, topic_ids, now=now, import_id=import_id) if added else []
            report.add(_without(added, raced), refused + raced)
        _tell(progress, report.rows + min((index + 1) * CHUNK_ROWS, report.rows))


def _safely(*steps: Callable[[], object]) -> None:
    """Run the steps in a transaction after a failure; should they fail too, log it, so that
    the first failure is the one raised."""
    try:
        with transaction():
            for step in steps:
                step()
    except Exception:
        current_app.logger.exception("could not release an import that failed, or audit it")


def _checked(
    content: bytes, topic_ids: dict[str, int], *, now: datetime, report: Report
) -> Iterator[list[Candidate]]:
    """The rows whose fields are all valid, a list per chunk; the rows read and those
    rejected go into `report`."""
    config = current_app.config
    layout, records = read_file(
        content, max_bytes=config["IMPORT_MAX_BYTES"], max_rows=config["IMPORT_MAX_ROWS"]
    )
    report.header, report.ignored_columns = layout.header, layout.ignored
    checker = RowChecker(layout, frozenset(topic_ids), now=now)
    for chunk in _chunks(records):
        checked = [checker.check(record) for record in chunk]
        report.rejections.extend(row for row in checked if isinstance(row, Rejection))
        report.rows += len(chunk)
        yield [row for row in checked if isinstance(row, Candidate)]


def _topic_ids() -> dict[str, int]:
    current = select(Topic.slug, Topic.id).where(Topic.retired_at.is_(None))
    return dict(db.session.execute(current).all())


def _tell(progress: Progress | None, done: int) -> None:
    if progress is not None:
        progress(done)


def _chunks(records: Iterator[Record]) -> Iterator[list[Record]]:
    while chunk := list(itertools.islice(records, CHUNK_ROWS)):
        yield chunk


def _without(candidates: list[Candidate], raced: list[Rejection]) -> list[Candidate]:
    """The rows written: all but those a sign-up got to first."""
    lost = {rejection.line for rejection in raced}
    return [candidate for candidate in candidates if candidate.record.line not in lost]


def _against_database(candidates: list[Candidate]) -> tuple[list[Candidate], list[Rejection]]:
    """The rows still to add, and those the suppression list or an existing subscriber rules
    out."""
    if not candidates:
        return [], []
    statuses = _statuses([candidate.key for candidate in candidates])
    hashes = {candidate.key: address_hash(candidate.email) for candidate in candidates}
    suppressed = _suppressed(list(hashes.values()))
    accepted, refused = [], []
    for candidate in candidates:
        status = statuses.get(candidate.key)
        if hashes[candidate.key] in suppressed:
            reason = "the address is on the suppression list"
            refused.append(candidate.reject(Reason.SUPPRESSED, reason))
        elif status is not None:
            refused.append(_existing(candidate, status))
        else:
            accepted.append(candidate)
    return accepted, refused


def _statuses(keys: list[str]) -> dict[str, SubscriberStatus]:
    """The status of each address (by email_key) that has a subscriber already."""
    statement = select(Subscriber.email_key, Subscriber.status)
    return dict(db.session.execute(statement.where(_among(Subscriber.email_key, keys))).all())


def _suppressed(hashes: list[str]) -> set[str]:
    """Those of the address hashes that are on the suppression list."""
    statement = select(Suppression.address_hash).where(_among(Suppression.address_hash, hashes))
    return set(db.session.scalars(statement))


def _among(column: InstrumentedAttribute[str], values: list[str]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(<one array>)`, which is quicker to
    send and plan than a thousand parameters."""
    if not on_postgresql():
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(String)).cast(ARRAY(String)))


def _existing(candidate: Candidate, status: SubscriberStatus) -> Rejection:
    """The rejection of a row whose address already has a subscriber."""
    if status in (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE):
        return candidate.reject(Reason.EXISTING, f"already a subscriber ({status.value})")
    return candidate.reject(
        Reason.UNSUBSCRIBED,
        f"{status.value}: only a new sign-up through the subscribe form can bring them back",
    )
