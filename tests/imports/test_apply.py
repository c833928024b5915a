"""Applying an import: who joins as active, who is sent a confirmation, a bad file changes
nothing, and an import that stops part way is finished by running it again."""

from __future__ import annotations

import sqlite3
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import make_url
from sqlalchemy import select

from mailer import clock
from mailer import jobs
from mailer.database import transaction
from mailer.domain.imports import apply_import
from mailer.domain.imports import check_import
from mailer.domain.imports.files import ImportFileError
from mailer.domain.imports.rows import Reason
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import link
from tests.helpers import send_queued
from tests.imports.conftest import NOW
from tests.imports.conftest import ROWS
from tests.imports.conftest import audit_details
from tests.imports.conftest import csv_file
from tests.imports.conftest import stop_after_chunks
from tests.imports.conftest import table_counts

GOOD = csv_file(
    'ann@example.org,funding;events,weekly,"paper form, CSP conference 2025",2025-03-14',
    "Raj@Example.ORG,consultations,,,",
    "lee@example.org,events,immediate,,2025-03-01",
    "kim@example.org,funding,,sign-up sheet,2025-03-14T09:30:00+01:00",
)


def _apply(app, content, **options):
    with app.app_context():
        return apply_import(
            content, actor="test", target="Subscriber", filename="list.csv", now=NOW, **options
        )


def _subscribers(app):
    with app.app_context():
        found = db.session.scalars(select(Subscriber).order_by(Subscriber.id))
        return {
            s.email: (
                s.status,
                s.confirmed_at,
                sorted((x.topic.slug, x.frequency) for x in s.subscriptions),
            )
            for s in found
        }


def _consent(app, email):
    with app.app_context():
        event_ = db.session.scalars(
            select(ConsentEvent).join(Subscriber).where(Subscriber.email == email)
        ).one()
        return event_.action, event_.wording_version, event_.ip, event_.user_agent, event_.detail


def test_rows_with_consent_join_as_active_and_the_rest_as_pending(app):
    report = _apply(app, GOOD)
    assert (report.rows, report.active, report.pending, report.rejected) == (4, 2, 2, 0)
    assert _subscribers(app) == {
        "ann@example.org": (
            SubscriberStatus.ACTIVE,
            datetime(2025, 3, 14, tzinfo=UTC),
            [("events", Frequency.WEEKLY), ("funding", Frequency.WEEKLY)],
        ),
        "Raj@example.org": (SubscriberStatus.PENDING, None, [("consultations", Frequency.DAILY)]),
        "lee@example.org": (SubscriberStatus.PENDING, None, [("events", Frequency.IMMEDIATE)]),
        "kim@example.org": (
            SubscriberStatus.ACTIVE,
            datetime(2025, 3, 14, 8, 30, tzinfo=UTC),
            [("funding", Frequency.DAILY)],
        ),
    }


def test_each_imported_subscriber_has_one_consent_event_saying_where_consent_came_from(app):
    _apply(app, GOOD, import_id=None)
    assert _consent(app, "ann@example.org") == (
        ConsentAction.IMPORTED,
        "import",
        None,
        None,
        {
            "method": "import",
            "source": "paper form, CSP conference 2025",
            "consent_date": "2025-03-14",
            "import_id": None,
            "topics": ["funding", "events"],
            "frequency": "weekly",
            "language": "en",
        },
    )
    assert _consent(app, "Raj@example.org")[4] == {
        "method": "import",
        "source": None,
        "consent_date": None,
        "import_id": None,
        "topics": ["consultations"],
        "frequency": "daily",
        "language": "en",
    }
    assert _consent(app, "kim@example.org")[4]["consent_date"] == "2025-03-14T08:30:00+00:00"


def test_pending_rows_are_asked_to_confirm_and_can(app, client, smtpd):
    _apply(app, GOOD)
    with app.app_context():
        queued = db.session.execute(select(Delivery.kind, Delivery.status, Delivery.run_id)).all()
    assert sorted(queued) == [(MessageKind.INVITE, DeliveryStatus.QUEUED, None)] * 2
    stats = send_queued(app)
    assert stats.sent == 2
    received = {m.rcpt_tos[0]: m for m in smtpd.drain()}
    assert sorted(received) == ["Raj@example.org", "lee@example.org"]
    invite = received["lee@example.org"]
    assert invite.message["Subject"] == "Confirm you want Community Safety Partnerships news"
    # They did not sign up here: the email says where their address came from, and why.
    assert "Your address is on a mailing list" in invite.text
    assert "Someone, probably you" not in invite.text
    assert "/privacy" in invite.text
    assert "List-Unsubscribe" not in invite.message
    assert "* Events" in invite.text
    path = link(invite.text, "/confirm/")
    page = client.get(path).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post(path, data={"csrf_token": token}).status_code in (200, 302)
    assert _subscribers(app)["lee@example.org"][0] is SubscriberStatus.ACTIVE


def test_an_imported_address_that_never_confirms_gets_nothing_more(app, smtpd):
    _apply(app, GOOD)
    send_queued(app)
    smtpd.drain()
    # The job below reads the clock, so the news is published by it.
    now = clock.now()
    with app.app_context(), transaction():
        add_readers(1, follows={"events": Frequency.IMMEDIATE}, now=now)
        publish_news("Safer Streets events announced", topics=("events",), at=now)
    jobs.make_due_runs(app, actor="test")

    send_queued(app)

    # lee@example.org follows events as they are published too, but never confirmed.
    assert [m.rcpt_tos for m in smtpd.drain()] == [["reader4@example.org"]]


def test_consent_sources_that_look_like_formulas_are_kept_as_text(app):
    report = _apply(
        app,
        csv_file(
            "a@example.org,funding,,=cmd|' /C calc'!A0,2025-03-14",
            "b@example.org,funding,,@SUM(1+1),2025-03-14",
        ),
    )
    assert report.active == 2
    assert _consent(app, "a@example.org")[4]["source"] == "=cmd|' /C calc'!A0"
    assert _consent(app, "b@example.org")[4]["source"] == "@SUM(1+1)"


def test_the_import_is_audited_with_its_counts(app):
    _apply(app, csv_file("ann@example.org,funding,,form,2025-03-14", "bad,funding,,,"))
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "subscribers.import")
        ).one()
        assert (entry.actor, entry.target_type, entry.target_id, entry.at) == (
            "test",
            "Subscriber",
            None,
            NOW,
        )
        assert entry.detail == {
            "filename": "list.csv",
            "rows": 2,
            "accepted": 1,
            "rejected": 1,
            "active": 1,
            "pending": 0,
        }


def test_the_apply_checks_every_row_again(app):
    content = csv_file("ann@example.org,funding,,,", "raj@example.org,events,,,")
    with app.app_context():
        assert check_import(content, now=NOW).accepted == 2
        make_subscriber(email="raj@example.org", status=SubscriberStatus.PENDING, now=NOW)
        db.session.commit()
    report = _apply(app, content)
    assert (report.accepted, [(r.line, r.reason) for r in report.rejections]) == (
        1,
        [(3, Reason.EXISTING)],
    )


def test_a_subscriber_added_while_the_import_writes_is_skipped_not_a_crash(app):
    """Someone signs up between the check of a chunk and its insert."""
    content = csv_file("ann@example.org,funding,,,", "raj@example.org,events,,form,2025-01-01")
    added = []

    def sign_up_first(state):
        """Just before the import inserts its subscribers, Raj's sign-up gets there first."""
        if state.is_insert and state.statement.table.name == "subscribers" and not added:
            added.append("raj@example.org")
            db.session.execute(insert(Subscriber), [_raj()])

    with app.app_context():
        event.listen(db.session, "do_orm_execute", sign_up_first)
        try:
            report = apply_import(
                content, actor="test", target="Subscriber", filename="x.csv", now=NOW
            )
        finally:
            event.remove(db.session, "do_orm_execute", sign_up_first)
    assert added
    assert (report.active, report.pending) == (0, 1)
    assert [(r.line, r.reason, r.message) for r in report.rejections] == [
        (3, Reason.EXISTING, "already a subscriber (signed up during the import)")
    ]
    with app.app_context():
        raj = db.session.scalars(select(Subscriber).where(Subscriber.email == "raj@example.org"))
        assert raj.one().subscriptions == []


def _raj():
    return {
        "email": "raj@example.org",
        "email_key": "raj@example.org",
        "status": SubscriberStatus.PENDING,
        "created_at": NOW,
        "updated_at": NOW,
    }


def test_a_file_found_bad_part_way_changes_nothing(app):
    """Every row is read and checked before the first is written."""
    content = csv_file(*ROWS) + b'late@example.org,"funding\r\n'
    before = table_counts(app)
    with pytest.raises(ImportFileError, match="Line 2502 is not valid CSV"):
        _apply(app, content)
    assert table_counts(app) == before


def test_an_import_that_stops_part_way_keeps_its_rows_and_run_again_adds_the_rest(app, monkeypatch):
    content = csv_file(*ROWS, "not-an-address,funding,,,")
    stop_after_chunks(monkeypatch, 1, OSError("No space left on device"))
    with pytest.raises(OSError, match="No space left on device"):
        _apply(app, content)
    assert _counts(app) == (1000, 1000, 1000, 1000)
    assert audit_details(app, "subscribers.import") == []
    assert audit_details(app, "subscribers.import_stopped") == [
        {
            "filename": "list.csv",
            "rows": 2501,
            "accepted": 1000,
            "rejected": 1,
            "active": 0,
            "pending": 1000,
            "error": "OSError",
        }
    ]

    monkeypatch.undo()
    report = _apply(app, content)

    assert (report.rows, report.accepted, report.rejected) == (2501, 1500, 1001)
    assert report.reasons() == [(Reason.INVALID_ADDRESS, 1), (Reason.EXISTING, 1000)]
    assert report.rejections[0].message == "already a subscriber (pending)"
    assert [r.line for r in report.rejections] == sorted(r.line for r in report.rejections)
    assert _counts(app) == (2500, 2500, 2500, 2500)
    assert [detail["accepted"] for detail in audit_details(app, "subscribers.import")] == [1500]


def test_progress_counts_the_rows_checked_then_the_rows_written(app):
    done = []
    _apply(app, csv_file(*ROWS), progress=done.append)
    assert done == [1000, 2000, 2500, 3500, 4500, 5000]


def test_other_writers_get_the_sqlite_lock_while_rows_are_checked_and_between_chunks(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    writes = []

    def write_meanwhile(done):
        """Another process takes the write lock, as a sign-up or the worker does."""
        other = sqlite3.connect(url.database, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writes.append(done)
        except sqlite3.OperationalError as error:
            writes.append(f"{done}: {error}")
        finally:
            other.close()

    _apply(app, csv_file(*ROWS), progress=write_meanwhile)
    assert writes == [1000, 2000, 2500, 3500, 4500, 5000]


def _counts(app):
    """Subscribers, distinct addresses among them, consent events and confirmation emails."""
    with app.app_context():
        count = db.session.scalar
        return (
            count(select(func.count()).select_from(Subscriber)),
            count(select(func.count(func.distinct(Subscriber.email_key)))),
            count(select(func.count()).select_from(ConsentEvent)),
            count(select(func.count()).select_from(Delivery)),
        )


def test_a_hundred_thousand_rows_import_in_full(app):
    rows = [
        f"reader{n}@example.org,funding;events,weekly,paper form,2025-03-14"
        if n % 2
        else f"reader{n}@example.org,consultations,,,"
        for n in range(100_000)
    ]
    report = _apply(app, csv_file(*rows))
    assert (report.rows, report.active, report.pending, report.rejected) == (
        100_000,
        50_000,
        50_000,
        0,
    )
    with app.app_context():
        by_status = dict(
            db.session.execute(
                select(Subscriber.status, func.count()).group_by(Subscriber.status)
            ).all()
        )
        assert by_status == {SubscriberStatus.ACTIVE: 50_000, SubscriberStatus.PENDING: 50_000}
        count = db.session.scalar
        assert count(select(func.count()).select_from(Subscription)) == 150_000
        assert count(select(func.count()).select_from(ConsentEvent)) == 100_000
        assert count(select(func.count()).select_from(Delivery)) == 50_000


def test_a_row_in_welsh_is_invited_in_welsh_and_a_wrong_language_is_rejected(app, smtpd):
    content = csv_file(
        "ann@example.org,funding,,,,cy",
        "raj@example.org,funding,,,,",
        "lee@example.org,funding,,,,fr",
        header="email,topics,frequency,consent_source,consent_date,language",
    )
    with app.app_context():
        report = check_import(content, now=NOW)
    assert [(r.line, r.reason, r.message) for r in report.rejections] == [
        (4, Reason.INVALID_LANGUAGE, "language “fr” is not en (English) or cy (Welsh)")
    ]
    _apply(app, content)
    with app.app_context():
        languages = dict(db.session.execute(select(Subscriber.email, Subscriber.language)).all())
        details = [e.detail["language"] for e in db.session.scalars(select(ConsentEvent))]
    assert languages == {"ann@example.org": "cy", "raj@example.org": "en"}
    assert sorted(details) == ["cy", "en"]
    send_queued(app, now=NOW)
    invites = {m.rcpt_tos[0]: m for m in smtpd.drain()}
    welsh = invites["ann@example.org"]
    assert welsh.message["Subject"] == (
        "Cadarnhewch eich bod eisiau Newyddion Partneriaethau Diogelwch Cymunedol"
    )
    assert welsh.message["Content-Language"] == "cy"
    assert link(welsh.text, "/cy/confirm/")
    assert "/cy/privacy" in welsh.html
    assert invites["raj@example.org"].message["Content-Language"] == "en"
