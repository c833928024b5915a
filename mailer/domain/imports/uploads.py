"""Uploaded subscriber lists: kept from the dry run until staff apply or discard them, once.

An apply first claims its upload in a short transaction of its own, by setting applied_at
while the file is still kept; it then writes a chunk at a time (see `mailer.domain.imports`),
and only in its last transaction records the counts and drops the file. So an upload is open
(neither applied_at nor discarded_at), being imported (applied_at, the file kept), imported
(applied_at, the file dropped) or discarded. An apply that fails part way gives its claim up
at once; a claim older than CLAIM_LEASE with the file still kept was left by an apply that was
killed, and the upload is open again. Applying again adds the rows not imported yet.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from mailer.database import transaction
from mailer.domain import audit
from mailer.domain.imports import Report
from mailer.domain.imports import apply_import
from mailer.errors import Conflict
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import SubscriberImport

MAX_FILENAME = 255
UNSAFE_IN_FILENAME = re.compile(r"[\x00-\x1f\x7f<>\"]")
# How long a claim keeps a second apply out: far longer than an apply of the largest file
# takes, so that only an apply that was killed loses its claim this way.
CLAIM_LEASE = timedelta(minutes=10)
STOPPED = "subscribers.import_stopped"


class UploadClosed(Conflict):
    """The upload was applied or discarded already, or is being applied; `message` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UploadState(enum.StrEnum):
    """Where an upload is in its life."""

    OPEN = "open"
    IMPORTING = "importing"
    # An apply claimed it longer than CLAIM_LEASE ago and never finished: open again.
    ABANDONED = "abandoned"
    APPLIED = "applied"
    DISCARDED = "discarded"


@dataclass(frozen=True)
class UploadClaim:
    """An apply's hold on its upload: applied_at is the time the apply started, `at`, and the
    file is still kept, until the last chunk is written."""

    upload_id: int
    at: datetime

    def keep(self) -> None:
        """Raise UploadClosed if the upload was discarded, or another apply took it over;
        locks the upload until the chunk's transaction ends."""
        held = select(SubscriberImport.id).where(self._held()).with_for_update()
        if db.session.scalar(held) is None:
            raise _lost(self.upload_id)

    def finish(self, report: Report) -> None:
        """Record the counts of the apply and drop the file (raise UploadClosed as `keep`)."""
        finished = db.session.scalar(
            update(SubscriberImport)
            .where(self._held())
            .values(rows=report.rows, accepted=report.accepted, rejected=report.rejected)
            .values(content=b"")
            .returning(SubscriberImport.id),
            execution_options={"synchronize_session": False},
        )
        if finished is None:
            raise _lost(self.upload_id)

    def release(self) -> None:
        """Open the upload again, unless it was discarded or another apply took it over."""
        db.session.execute(
            update(SubscriberImport).where(self._held()).values(applied_at=None),
            execution_options={"synchronize_session": False},
        )

    def _held(self) -> ColumnElement[bool]:
        return and_(
            SubscriberImport.id == self.upload_id,
            SubscriberImport.applied_at == self.at,
            SubscriberImport.discarded_at.is_(None),
            func.length(SubscriberImport.content) > 0,
        )


def store_upload(
    content: bytes, filename: str, report: Report, *, actor: str, now: datetime
) -> SubscriberImport:
    """Keep an uploaded file with the counts of its dry run (`check_import`) until it is
    applied or discarded; audited."""
    upload = SubscriberImport(
        filename=clean_filename(filename),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        rows=report.rows,
        accepted=report.accepted,
        rejected=report.rejected,
        created_by=actor[:400],
        created_at=now,
    )
    db.session.add(upload)
    audit.record(actor, "subscribers.import_upload", upload, now=now, detail=report.summary())
    return upload


def upload_by_id(upload_id: int, *, lock: bool = False) -> SubscriberImport | None:
    """The upload, locked until the transaction ends with `lock`."""
    return db.session.get(SubscriberImport, upload_id, with_for_update=lock)


def state(upload: SubscriberImport, *, now: datetime) -> UploadState:
    """Where the upload is in its life at `now`."""
    if upload.discarded_at is not None:
        return UploadState.DISCARDED
    if upload.applied_at is None:
        return UploadState.OPEN
    if not upload.content:
        return UploadState.APPLIED
    if upload.applied_at > now - CLAIM_LEASE:
        return UploadState.IMPORTING
    return UploadState.ABANDONED


def is_open(upload: SubscriberImport, *, now: datetime) -> bool:
    """Whether the upload may be applied or discarded at `now`."""
    return state(upload, now=now) in (UploadState.OPEN, UploadState.ABANDONED)


def stopped_imports(upload: SubscriberImport) -> Sequence[AuditEvent]:
    """The applies of the upload that failed part way, newest first, with the counts of what
    each wrote, as the audit log keeps them."""
    return [event for event in audit.recent(target=upload) if event.action == STOPPED]


def open_at(now: datetime) -> ColumnElement[bool]:
    """The uploads open at `now`, as `is_open` says, as a WHERE clause: also those claimed by
    an apply that was killed, whose file is still kept."""
    abandoned = and_(
        func.length(SubscriberImport.content) > 0,
        SubscriberImport.applied_at <= now - CLAIM_LEASE,
    )
    return and_(
        SubscriberImport.discarded_at.is_(None),
        or_(SubscriberImport.applied_at.is_(None), abandoned),
    )


def began(upload: SubscriberImport) -> bool:
    """Whether an apply of the upload started before and did not finish (so some of its
    rows may be imported)."""
    return upload.applied_at is not None or bool(stopped_imports(upload))


def apply_upload(upload: SubscriberImport, *, actor: str, now: datetime) -> Report:
    """Import the subscribers of an upload, checking every row again (`apply_import`); the
    file is not kept afterwards. The upload is claimed first, so that a second apply is
    refused meanwhile; the counts are recorded, and the file dropped, with the last chunk. An
    apply that fails part way leaves the upload open, with the rows written so far imported.
    Audited; commits (the session must have no changes pending).

    :raises UploadClosed: it was applied or discarded already, or is being applied.
    :raises ImportFileError: the file cannot be read under the current settings.
    """
    claim, content, filename = _claim(upload, now=now)
    return apply_import(
        content,
        actor=actor,
        target=upload,
        filename=filename,
        now=now,
        import_id=claim.upload_id,
        claim=claim,
    )


def discard_upload(upload: SubscriberImport, *, actor: str, now: datetime) -> None:
    """Drop a (locked) upload without importing anything more; the file is not kept. Audited.

    :raises UploadClosed: it was applied or discarded already, or is being applied.
    """
    _ensure_open(upload, now=now)
    upload.discarded_at = now
    upload.content = b""
    audit.record(actor, "subscribers.import_discard", upload, now=now)


def clean_filename(name: str) -> str:
    """The file's own name, without any folder, control characters or quotes, cut short."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = UNSAFE_IN_FILENAME.sub("", base).strip()
    return cleaned[:MAX_FILENAME] or "upload.csv"


def _claim(upload: SubscriberImport, *, now: datetime) -> tuple[UploadClaim, bytes, str]:
    """Claim the upload for an apply starting `now`, in a transaction of its own (one atomic
    UPDATE, so that of two applies at once only one gets it); its file and name.

    :raises UploadClosed: it is not open.
    """
    upload_id = upload.id
    with transaction():
        claimed = db.session.execute(
            update(SubscriberImport)
            .where(SubscriberImport.id == upload_id, open_at(now))
            .values(applied_at=now)
            .returning(SubscriberImport.content, SubscriberImport.filename),
            execution_options={"synchronize_session": False},
        ).one_or_none()
        if claimed is None:
            db.session.refresh(upload)
            _ensure_open(upload, now=now)
            raise UploadClosed("This list cannot be imported now; nothing was changed")
    return UploadClaim(upload_id, now), claimed.content, claimed.filename


def _lost(upload_id: int) -> UploadClosed:
    """Why an apply cannot go on with the upload it claimed."""
    discarded = select(SubscriberImport.discarded_at).where(SubscriberImport.id == upload_id)
    if db.session.scalar(discarded) is not None:
        return UploadClosed(
            "This list was discarded while it was being imported: the subscribers imported "
            "before then stay, and nothing more was imported"
        )
    return UploadClosed(
        "Another import of this list took over from this one: the subscribers imported "
        "before then stay, and the other import adds the rest"
    )


def _ensure_open(upload: SubscriberImport, *, now: datetime) -> None:
    current = state(upload, now=now)
    if current is UploadState.APPLIED:
        raise UploadClosed("This list was imported already; nothing was changed this time")
    if current is UploadState.DISCARDED:
        raise UploadClosed("This list was discarded; upload the file again to import it")
    if current is UploadState.IMPORTING:
        raise UploadClosed(
            "This list is being imported now; nothing was changed this time. "
            "Its page shows the outcome once the import has finished"
        )
