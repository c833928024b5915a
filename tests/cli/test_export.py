"""`mailer export-subscribers`: the subscriber list as CSV, to a file or standard output."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import delete
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ConsentAction
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests.factories import add_consent
from tests.factories import add_readers
from tests.factories import make_subscriber

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def readers(app):
    """Two active readers of funding news, one of events, and one erased subscriber."""
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.WEEKLY}, now=NOW)
        add_readers(1, follows={"events": Frequency.DAILY}, domain="other.example", now=NOW)
        erased = make_subscriber(email="", status=SubscriberStatus.ERASED, now=NOW)
        erased.email_key = f"erased-{erased.id}"
        db.session.commit()


def _rows(data: bytes):
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == data.count(b"\n")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _audit(app):
    with app.app_context():
        return [
            (event.actor, event.detail)
            for event in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "subscribers.export")
            )
        ]


def test_the_export_goes_to_a_file_with_a_progress_bar(app, runner, readers, tmp_path):
    target = tmp_path / "subscribers.csv"
    result = runner.invoke(args=["export-subscribers", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Exported 3 subscribers to {target}.\n"
    assert "Exporting" in result.stderr
    rows = _rows(target.read_bytes())
    assert rows[0][:5] == ["email", "topics", "frequency", "consent_source", "consent_date"]
    assert [row[:3] for row in rows[1:]] == [
        ["reader0@example.org", "funding", "weekly"],
        ["reader1@example.org", "funding", "weekly"],
        ["reader2@other.example", "events", "daily"],
    ]
    assert [path.name for path in tmp_path.iterdir()] == ["subscribers.csv"]
    assert target.stat().st_mode & 0o777 == 0o600
    assert _audit(app) == [("cli", {"filters": {}, "rows": 3})]


def test_the_export_goes_to_standard_output_by_default(app, runner, readers):
    result = runner.invoke(
        args=[
            "export-subscribers",
            "--topic",
            "funding",
            "--frequency",
            "weekly",
            "--search",
            "R1@",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout_bytes)
    assert [row[0] for row in rows] == ["email", "reader1@example.org"]
    assert result.stderr == "Exported 1 subscriber.\n"
    filters = {"q": "R1@", "topic": "funding", "frequency": "weekly"}
    assert _audit(app) == [("cli", {"filters": filters, "rows": 1})]


def test_an_existing_file_is_kept_unless_forced(app, runner, readers, tmp_path):
    target = tmp_path / "subscribers.csv"
    target.write_text("keep me")
    result = runner.invoke(args=["export-subscribers", "--output", str(target)])
    assert result.exit_code == 2
    assert f"{target} exists; add --force to overwrite it" in result.output
    assert target.read_text() == "keep me"
    assert _audit(app) == []

    forced = runner.invoke(
        args=["export-subscribers", "--output", str(target), "--force", "--status", "active"]
    )
    assert forced.exit_code == 0, forced.output
    assert len(_rows(target.read_bytes())) == 4
    assert [path.name for path in tmp_path.iterdir()] == ["subscribers.csv"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--status", "gone"], "Invalid value for '--status'"),
        (["--frequency", "hourly"], "Invalid value for '--frequency'"),
        (["--topic", "knitting"], "There is no topic 'knitting'; choose one from the list"),
        (["--search", "x" * 321], "Search text must be 320 characters or fewer"),
        (["--output", "/no/such/folder/out.csv"], "there is no folder /no/such/folder"),
        (["--colour"], "No such option '--colour'"),
    ],
)
def test_a_bad_option_is_a_usage_error(app, runner, readers, option, message):
    result = runner.invoke(args=["export-subscribers", *option])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert _audit(app) == []


def test_a_folder_is_not_an_output_file(app, runner, tmp_path):
    result = runner.invoke(args=["export-subscribers", "--output", str(tmp_path), "--force"])
    assert result.exit_code == 2
    assert f"{tmp_path} is a folder" in result.output


def test_an_export_imports_back_as_it_was(app, runner, tmp_path):
    with app.app_context():
        follows = {"funding": Frequency.WEEKLY, "events": Frequency.WEEKLY}
        ids = add_readers(3, follows=follows, now=NOW)
        # Valid addresses that a spreadsheet would take for formulas.
        ids += add_readers(1, follows=follows, domain="x.example", prefix="-", now=NOW)
        ids += add_readers(1, follows=follows, domain="y.example", prefix="=", now=NOW)
        for subscriber_id in ids:
            add_consent(subscriber_id, ConsentAction.CONFIRMED, at=NOW, detail={"method": "link"})
        db.session.commit()
    target = tmp_path / "subscribers.csv"
    assert runner.invoke(args=["export-subscribers", "--output", str(target)]).exit_code == 0
    with app.app_context():
        before = _subscribers()
        db.session.execute(delete(Subscriber))
        db.session.commit()

    result = runner.invoke(args=["import-subscribers", str(target), "--apply"])
    assert result.exit_code == 0, result.output
    assert "Rejected: 0" in result.output
    with app.app_context():
        assert _subscribers() == before
    assert {"-reader3@x.example", "=reader4@y.example"} <= set(before)


def _subscribers():
    """Each subscriber's address, status and (topic, frequency) pairs."""
    return {
        subscriber.email: (
            subscriber.status,
            sorted((s.topic.slug, s.frequency) for s in subscriber.subscriptions),
        )
        for subscriber in db.session.scalars(select(Subscriber))
    }
