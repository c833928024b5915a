"""The admins' import pages: upload, dry-run report, import once or discard; an import that
stops part way, and the write lock."""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy import update
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from mailer import clock
from mailer.domain import imports
from mailer.domain.imports import rows
from mailer.domain.imports import uploads
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import SubscriberStatus
from tests import TODAY
from tests.factories import make_subscriber
from tests.helpers import csrf_token
from tests.helpers import send_queued
from tests.imports.conftest import ROWS
from tests.imports.conftest import audit_details
from tests.imports.conftest import csv_file
from tests.imports.conftest import stop_after_chunks
from tests.imports.conftest import table_counts

UPLOAD = "/staff/subscribers/import"
GOOD = csv_file(
    'ann@example.org,funding;events,weekly,"paper form, CSP conference 2025",2025-03-14',
    "raj@example.org,consultations,,,",
    "<script>alert(1)</script>@example.org,funding,,,",
    "lee@example.org,gardening,,,",
)


def _upload(client, content, filename="list.csv", *, token=True):
    """Post the form as a browser does; the body is built in memory, since the test client
    would leave a large one in a temporary file that nothing closes when the upload is
    refused unread."""
    fields = {"file": FileStorage(io.BytesIO(content), filename, content_type="text/csv")}
    if token:
        fields["csrf_token"] = csrf_token(client, UPLOAD)
    boundary, body = encode_multipart(fields)
    return client.post(UPLOAD, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _post(client, path):
    return client.post(path, data={"csrf_token": csrf_token(client, UPLOAD)})


def _text(response):
    return response.get_data(as_text=True)


def _stored(app):
    with app.app_context():
        return db.session.scalars(select(SubscriberImport).order_by(SubscriberImport.id)).all()


def _subscriber_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Subscriber))


def _error_summary(page):
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)


def test_the_upload_page_explains_the_columns_and_the_consent_rules(admin):
    response = admin.get(UPLOAD)
    page = _text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "email,topics,frequency,consent_source,consent_date" in page
    assert "<code>domestic-homicide-reviews</code>" in page
    assert 'href="/privacy#why"' in page
    assert 'href="/staff/subscribers/import" aria-current="page">Import</a>' in page
    assert 'enctype="multipart/form-data"' in page


def test_an_upload_is_checked_and_kept_without_importing_anything(app, admin):
    before = table_counts(app)
    response = _upload(admin, GOOD, filename="C:\\Users\\ann\\lists/csp\r\n list.csv")
    [upload] = _stored(app)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/subscribers/imports/{upload.id}"
    assert (upload.filename, upload.rows, upload.accepted, upload.rejected) == (
        "csp list.csv",
        4,
        2,
        2,
    )
    assert upload.content == GOOD
    assert upload.sha256 == hashlib.sha256(GOOD).hexdigest()
    assert upload.created_by.endswith("admin@example.gov.uk")
    assert upload.applied_at is None
    after = table_counts(app)
    assert after.pop("subscriber_imports") == before.pop("subscriber_imports") + 1
    assert after.pop("audit_events") == before.pop("audit_events") + 1
    assert after == before


def test_the_report_shows_the_counts_the_rejected_rows_and_the_buttons(app, admin):
    _upload(admin, GOOD)
    before = table_counts(app)
    response = admin.get(f"/staff/subscribers/imports/{_stored(app)[0].id}")
    page = _text(response)
    assert table_counts(app) == before
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert re.findall(r'data-count="(\w+)">(\d+)', page) == [
        ("rows", "4"),
        ("active", "1"),
        ("pending", "1"),
        ("rejected", "2"),
    ]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.org" in page
    assert "<script>alert(1)" not in page
    assert "unknown topic “gardening”" in page
    assert "Import 2 subscribers</button>" in page
    assert "Discard</button>" in page


def test_only_the_first_500_rejected_rows_are_listed(app, admin):
    _upload(admin, csv_file(*[f"bad{n},funding,,," for n in range(503)]))
    page = _text(admin.get(f"/staff/subscribers/imports/{_stored(app)[0].id}"))
    assert page.count('govuk-table__cell" data-reason="invalid address">') == 500
    assert "3 more are not" in page
    assert "Import 0" not in page


def test_importing_adds_the_subscribers_once_and_forgets_the_file(app, admin, smtpd):
    _upload(admin, GOOD)
    upload_id = _stored(app)[0].id
    response = _post(admin, f"/staff/subscribers/imports/{upload_id}/apply")
    assert response.status_code == 302
    page = _text(admin.get(response.headers["Location"]))
    assert "Imported 2 subscribers: 1 active, 1 sent a confirmation email; 2 rows rejected" in page
    assert "2 of 4 rows were added as subscribers" in page
    [upload] = _stored(app)
    assert upload.content == b""
    assert upload.applied_at is not None
    with app.app_context():
        statuses = dict(db.session.execute(select(Subscriber.email, Subscriber.status)).all())
        entry = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "subscribers.import")
        ).one()
    assert statuses == {
        "ann@example.org": SubscriberStatus.ACTIVE,
        "raj@example.org": SubscriberStatus.PENDING,
    }
    assert (entry.target_type, entry.target_id) == ("SubscriberImport", upload_id)
    assert entry.detail["filename"] == "list.csv"
    send_queued(app)
    assert [m.rcpt_tos for m in smtpd.drain()] == [["raj@example.org"]]


def test_a_second_import_of_the_same_upload_is_refused(app, admin):
    _upload(admin, GOOD)
    upload_id = _stored(app)[0].id
    assert _post(admin, f"/staff/subscribers/imports/{upload_id}/apply").status_code == 302
    again = _post(admin, f"/staff/subscribers/imports/{upload_id}/apply")
    assert again.status_code == 409
    assert "This list was imported already; nothing was changed this time" in _text(again)
    assert _subscriber_count(app) == 2
    discard = _post(admin, f"/staff/subscribers/imports/{upload_id}/discard")
    assert discard.status_code == 409
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "subscribers.import")
        )
    assert count == 1


def test_a_discarded_upload_cannot_be_imported(app, admin):
    _upload(admin, GOOD)
    upload_id = _stored(app)[0].id
    response = _post(admin, f"/staff/subscribers/imports/{upload_id}/discard")
    assert response.status_code == 302
    assert "nothing was imported and the file is not kept" in _text(admin.get(UPLOAD))
    [upload] = _stored(app)
    assert (upload.content, upload.discarded_at is not None) == (b"", True)
    refused = _post(admin, f"/staff/subscribers/imports/{upload_id}/apply")
    assert refused.status_code == 409
    assert "This list was discarded" in _text(refused)
    assert _subscriber_count(app) == 0
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["subscribers.import_upload", "subscribers.import_discard"]


def test_the_import_checks_the_rows_again(app, admin):
    _upload(admin, GOOD)
    with app.app_context():
        make_subscriber(email="raj@example.org", status=SubscriberStatus.ACTIVE, now=TODAY)
        db.session.commit()
    _post(admin, f"/staff/subscribers/imports/{_stored(app)[0].id}/apply")
    page = _text(admin.get(UPLOAD))
    assert "Imported 1 subscribers: 1 active, 0 sent a confirmation email; 3 rows rejected" in page
    assert (_stored(app)[0].accepted, _stored(app)[0].rejected) == (1, 3)


def test_a_file_that_cannot_be_read_shows_the_form_again_and_nothing_is_kept(app, admin):
    before = table_counts(app)
    response = _upload(admin, "email,topics\r\nzoë@example.org,funding\r\n".encode("utf-16"))
    page = _text(response)
    assert response.status_code == 400
    assert _error_summary(page) == [
        (
            "file",
            "The file is saved as UTF-16 text, not UTF-8: open it in your spreadsheet, save it "
            "as CSV UTF-8 (comma delimited) and try again",
        )
    ]
    assert table_counts(app) == before


def test_choosing_no_file_is_an_error(admin):
    response = admin.post(
        UPLOAD, data={"csrf_token": csrf_token(admin, UPLOAD)}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert _error_summary(_text(response)) == [("file", "Choose a CSV file to upload")]


def test_a_file_larger_than_a_form_but_within_the_limit_is_accepted(app, admin):
    content = csv_file(*[f"reader{n}@example.org,funding;events,weekly,,," for n in range(3000)])
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]
    assert _upload(admin, content).status_code == 302
    assert _stored(app)[0].rows == 3000


def test_a_file_over_the_limit_is_refused_with_the_form_again(app, admin):
    app.config["IMPORT_MAX_BYTES"] = 1024 * 1024
    response = _upload(admin, csv_file("a@example.org,funding,,,", "x" * (1200 * 1024)))
    assert response.status_code == 413
    assert _error_summary(_text(response)) == [("file", "The file must be smaller than 1 MB")]
    assert _stored(app) == []


def test_an_upload_without_the_form_token_is_refused(app, admin):
    response = _upload(admin, GOOD, token=False)
    assert response.status_code == 400
    assert "The form had expired" in _text(response)
    assert _stored(app) == []


def test_editors_may_not_import(app, admin, editor):
    _upload(admin, GOOD)
    upload_id = _stored(app)[0].id
    token = csrf_token(editor, "/staff/")
    assert editor.get(UPLOAD).status_code == 403
    assert editor.get(f"/staff/subscribers/imports/{upload_id}").status_code == 403
    for path in (
        UPLOAD,
        f"/staff/subscribers/imports/{upload_id}/apply",
        f"/staff/subscribers/imports/{upload_id}/discard",
    ):
        assert editor.post(path, data={"csrf_token": token}).status_code == 403
    assert "Import subscribers" not in _text(editor.get("/staff/"))
    assert _subscriber_count(app) == 0
    assert _stored(app)[0].content == GOOD


def test_an_unknown_upload_is_not_found(admin):
    assert admin.get("/staff/subscribers/imports/99").status_code == 404
    assert _post(admin, "/staff/subscribers/imports/99/apply").status_code == 404


def _during_the_check(monkeypatch, action):
    """Run `action` once, while the import checks its first row (before it writes any)."""
    done = []
    check = rows.RowChecker.check

    def check_and_act(self, record):
        if not done:
            done.append(action())
        return check(self, record)

    monkeypatch.setattr(rows.RowChecker, "check", check_and_act)
    return done


def test_checking_the_rows_does_not_hold_the_sqlite_write_lock(app, admin, monkeypatch):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    _upload(admin, csv_file(*ROWS[:50]))
    upload_id = _stored(app)[0].id

    def write():
        """Another process takes the write lock, as a sign-up or the worker does."""
        other = sqlite3.connect(url.database, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return "written"
        except sqlite3.OperationalError as error:
            return str(error)
        finally:
            other.close()

    writes = _during_the_check(monkeypatch, write)
    assert _post(admin, f"/staff/subscribers/imports/{upload_id}/apply").status_code == 302
    assert writes == ["written"]
    assert _subscriber_count(app) == 50


def test_a_second_import_while_one_is_running_is_refused(app, admin, monkeypatch):
    _upload(admin, GOOD)
    upload_id = _stored(app)[0].id
    path = f"/staff/subscribers/imports/{upload_id}"
    meanwhile = _during_the_check(
        monkeypatch,
        lambda: (_post(admin, f"{path}/apply"), _post(admin, f"{path}/discard"), admin.get(path)),
    )
    response = _post(admin, f"{path}/apply")
    assert response.status_code == 302
    [(second, discard, page)] = meanwhile
    assert (second.status_code, discard.status_code) == (409, 409)
    assert "This list is being imported now; nothing was changed this time" in _text(second)
    assert "This list is being imported now" in _text(discard)
    assert "This list is being imported: the import started" in _text(page)
    assert "</button>" not in _text(page).split('id="outcome"', 1)[1]
    assert _subscriber_count(app) == 2
    assert len(audit_details(app, "subscribers.import")) == 1
    assert "2 of 4 rows were added as subscribers" in _text(admin.get(path))


def test_an_import_that_stops_part_way_stays_open_and_importing_again_adds_the_rest(
    app, admin, monkeypatch
):
    _upload(admin, csv_file(*ROWS))
    path = f"/staff/subscribers/imports/{_stored(app)[0].id}"
    stop_after_chunks(monkeypatch, 1, OSError("No space left on device"))
    assert _post(admin, f"{path}/apply").status_code == 500
    monkeypatch.undo()
    [upload] = _stored(app)
    assert (upload.applied_at, upload.content) == (None, csv_file(*ROWS))
    assert _subscriber_count(app) == 1000
    page = _text(admin.get(path))
    assert "stopped part way, after adding 1,000 subscribers" in page
    assert re.findall(r'data-count="(\w+)">([\d,]+)', page)[2:] == [
        ("pending", "1,500"),
        ("rejected", "1,000"),
    ]
    assert "Import 1,500 subscribers</button>" in page

    response = _post(admin, f"{path}/apply")

    assert response.status_code == 302
    page = _text(admin.get(path))
    assert "Imported 1,500 subscribers: 0 active, 1,500 sent a confirmation email" in page
    assert "1,500 of 2,500 rows were added as subscribers and 1,000 were rejected" in page
    assert "imports of this list that stopped part way had added 1,000" in page
    [upload] = _stored(app)
    assert (upload.accepted, upload.rejected, upload.content) == (1500, 1000, b"")
    assert _subscriber_count(app) == 2500
    assert [d["accepted"] for d in audit_details(app, "subscribers.import_stopped")] == [1000]
    assert [d["accepted"] for d in audit_details(app, "subscribers.import")] == [1500]


def test_an_upload_left_claimed_by_a_killed_import_opens_again_after_a_while(
    app, admin, monkeypatch
):
    """The process is killed part way: nothing runs after the kill to give the claim up, so
    it runs out."""
    _upload(admin, csv_file(*ROWS))
    upload_id = _stored(app)[0].id
    path = f"/staff/subscribers/imports/{upload_id}"
    monkeypatch.setattr(imports, "_safely", lambda *steps: None)
    stop_after_chunks(monkeypatch, 1, SystemExit(9))
    with pytest.raises(SystemExit):
        _post(admin, f"{path}/apply")
    monkeypatch.undo()
    refused = _post(admin, f"{path}/apply")
    assert refused.status_code == 409
    assert "This list is being imported now" in _text(refused)

    _claimed_ago(app, upload_id, uploads.CLAIM_LEASE + timedelta(seconds=1))

    page = _text(admin.get(path))
    assert re.search(r"An import of this list started .* did not finish", page)
    assert "Import 1,500 subscribers</button>" in page
    assert _post(admin, f"{path}/apply").status_code == 302
    assert _subscriber_count(app) == 2500
    assert (_stored(app)[0].accepted, _stored(app)[0].rejected) == (1500, 1000)


def test_an_upload_discarded_while_it_is_imported_stops_the_import(app, admin, monkeypatch):
    """An erasure discards the lists that name the address, whatever they are doing."""
    _upload(admin, csv_file(*ROWS))
    upload_id = _stored(app)[0].id
    write_chunk = imports.write_chunk

    def write_and_discard(*args, **kwargs):
        raced = write_chunk(*args, **kwargs)
        discard = update(uploads.SubscriberImport).values(discarded_at=clock.now())
        db.session.execute(discard.values(content=b""))
        return raced

    monkeypatch.setattr(imports, "write_chunk", write_and_discard)
    response = _post(admin, f"/staff/subscribers/imports/{upload_id}/apply")
    assert response.status_code == 409
    assert "This list was discarded while it was being imported" in _text(response)
    assert _subscriber_count(app) == 1000
    assert [d["accepted"] for d in audit_details(app, "subscribers.import_stopped")] == [1000]
    assert audit_details(app, "subscribers.import") == []
    page = _text(admin.get(f"/staff/subscribers/imports/{upload_id}"))
    assert "nothing more was imported (the subscribers added by an import of it" in page


def _claimed_ago(app, upload_id, age):
    """Move the claim of an upload back by `age`, as if that much time had passed."""
    with app.app_context():
        upload = db.session.get(SubscriberImport, upload_id)
        upload.applied_at -= age
        db.session.commit()
