"""Helpers for the import tests: CSV files, counts of every table, a logged-in editor, an
import that stops part way."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import imports
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import StaffRole
from tests import TODAY
from tests.helpers import EDITOR
from tests.helpers import logged_in

HEADER = "email,topics,frequency,consent_source,consent_date"
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
ROWS = [f"reader{n}@example.org,funding,,," for n in range(2500)]


def csv_file(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    """A CSV file as a spreadsheet saves it: CRLF line ends, UTF-8."""
    text = "\r\n".join((header, *rows)) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def table_counts(app) -> dict[str, int]:
    """The number of rows in every table."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


@pytest.fixture
def editor(app):
    """A logged-in editor, with a browser of their own."""
    return logged_in(app, app.test_client(), EDITOR, StaffRole.EDITOR, now=TODAY)


def stop_after_chunks(monkeypatch, chunks: int, error: BaseException) -> None:
    """Make the import fail with `error` once it has written `chunks` chunks of rows, as when
    the disk fills up or the process is stopped; `monkeypatch.undo()` mends it."""
    written = []
    write_chunk = imports.write_chunk

    def write_then_fail(*args, **kwargs):
        if len(written) == chunks:
            raise error
        written.append(True)
        return write_chunk(*args, **kwargs)

    monkeypatch.setattr(imports, "write_chunk", write_then_fail)


def audit_details(app, action: str) -> list[dict]:
    """The detail of each audit event of `action`, oldest first."""
    with app.app_context():
        statement = select(AuditEvent.detail).where(AuditEvent.action == action)
        return list(db.session.scalars(statement.order_by(AuditEvent.id)))
