"""Attachments of case studies: PDF, DOCX and ODT files, their type known from their content
(never from their name), kept outside the web root under a random key, with their SHA-256.
Functions flush; the caller owns the transaction and gives the storage folder."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from pathlib import PurePosixPath

from sqlalchemy import select

from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyAttachment
from mailer.models import CaseStudyState

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", ODT: ".odt"}
# A zip whose contents unpack to more than this many times its size, or more than this
# many bytes in all, is refused: it is built to fill a disk, not to be read.
MAX_RATIO = 100
MAX_UNPACKED = 200 * 1024 * 1024
MAX_ENTRIES = 5000
MAX_NAME = 150
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
WRONG_TYPE = "The file must be a PDF, a Word document (DOCX) or an OpenDocument text (ODT)"


@dataclass(frozen=True)
class Limits:
    """How large one file may be and how many one case study may have (from the settings)."""

    max_bytes: int
    max_files: int


def sniff(data: bytes) -> str:
    """The type of a file by its content: PDF, DOCX or ODT.

    :raises InvalidInput: anything else, or a zip with unsafe entries.
    """
    if data.startswith(b"%PDF-"):
        return PDF
    if not data.startswith(b"PK\x03\x04"):
        raise InvalidInput("file", WRONG_TYPE)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _zip_type(archive, len(data))
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise InvalidInput("file", WRONG_TYPE) from None


def _zip_type(archive: zipfile.ZipFile, packed: int) -> str:
    entries = archive.infolist()
    if not entries or len(entries) > MAX_ENTRIES:
        raise InvalidInput("file", WRONG_TYPE)
    for entry in entries:
        path = PurePosixPath(entry.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in entry.filename:
            raise InvalidInput("file", "The file holds unsafe paths; save it again and retry")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(packed, 1):
        raise InvalidInput("file", "The file is compressed too much to be a document")
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return DOCX
    first = entries[0]
    if first.filename == "mimetype" and first.file_size < 100:
        if archive.read(first).strip() == ODT.encode():
            return ODT
    raise InvalidInput("file", WRONG_TYPE)


def safe_filename(name: str, content_type: str) -> str:
    """The name to show and offer for download: the last part of what the browser sent, with
    no control or path characters, and the extension of its real type."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = UNSAFE_NAME.sub("_", base).strip(" ._")[:MAX_NAME] or "attachment"
    extension = EXTENSIONS[content_type]
    return base if base.lower().endswith(extension) else base + extension


def add_attachment(
    case_study: CaseStudy,
    name: str,
    data: bytes,
    *,
    root: Path,
    limits: Limits,
    now: datetime,
) -> CaseStudyAttachment:
    """Check and keep one file of a draft.

    :raises InvalidInput: empty, too large, too many, or not a PDF, DOCX or ODT.
    """
    if not data:
        raise InvalidInput("file", "Select a file")
    if len(data) > limits.max_bytes:
        megabytes = limits.max_bytes // (1024 * 1024)
        raise InvalidInput("file", f"The file must be smaller than {megabytes} MB")
    if len(case_study.attachments) >= limits.max_files:
        raise InvalidInput("file", f"You can attach up to {limits.max_files} files")
    content_type = sniff(data)
    key = secrets.token_hex(20)
    root.mkdir(parents=True, exist_ok=True)
    path = root / key
    with open(path, "xb") as out:
        out.write(data)
    attachment = CaseStudyAttachment(
        filename=safe_filename(name, content_type),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_at=now,
    )
    case_study.attachments.append(attachment)
    case_study.updated_at = now
    db.session.flush()
    return attachment


def remove_attachment(
    case_study: CaseStudy, attachment_id: int, *, root: Path, now: datetime
) -> bool:
    """Take a file off a draft and delete it; False when the draft has no such file."""
    found = next((a for a in case_study.attachments if a.id == attachment_id), None)
    if found is None:
        return False
    case_study.attachments.remove(found)
    case_study.updated_at = now
    db.session.flush()
    stored_path(found, root).unlink(missing_ok=True)
    return True


def stored_path(attachment: CaseStudyAttachment, root: Path) -> Path:
    """Where an attachment's bytes are kept."""
    return root / attachment.storage_key


def attachment_of(case_study: CaseStudy, attachment_id: int) -> CaseStudyAttachment | None:
    """One of the case study's files, by id."""
    return next((a for a in case_study.attachments if a.id == attachment_id), None)


def published_attachment(slug: str, attachment_id: int) -> CaseStudyAttachment | None:
    """A file of a published case study, by the case study's address and the file's id."""
    if not 1 <= attachment_id <= 2**31 - 1:
        return None
    return db.session.scalar(
        select(CaseStudyAttachment)
        .join(CaseStudy, CaseStudy.id == CaseStudyAttachment.case_study_id)
        .where(
            CaseStudy.slug == slug,
            CaseStudy.state == CaseStudyState.PUBLISHED,
            CaseStudyAttachment.id == attachment_id,
        )
    )


def staff_attachment(case_study_id: int, attachment_id: int) -> CaseStudyAttachment | None:
    """Any case study's file, for staff."""
    if not (1 <= attachment_id <= 2**31 - 1 and 1 <= case_study_id <= 2**31 - 1):
        return None
    found = db.session.get(CaseStudyAttachment, attachment_id)
    return found if found is not None and found.case_study_id == case_study_id else None
