"""The import-subscribers command as an operator uses it: dry run, --rejects, --apply."""

from __future__ import annotations

import csv

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests.helpers import send_queued
from tests.imports.conftest import ROWS
from tests.imports.conftest import audit_details
from tests.imports.conftest import csv_file
from tests.imports.conftest import stop_after_chunks
from tests.imports.conftest import table_counts

LIST = csv_file(
    'ann@example.org,funding;events,weekly,"paper form, CSP conference 2025",2025-03-14',
    "raj@example.org,consultations,,,",
    "ann@example.org,events,,,",
    "=cmd|' /C calc'!A0,funding,,,",
    *[f"bad{n},funding,,," for n in range(25)],
    header="email,topics,frequency,consent_source,consent_date,notes",
)


def _run(runner, tmp_path, content, *options):
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    return runner.invoke(args=["import-subscribers", str(path), *options])


def _statuses(app):
    with app.app_context():
        return dict(db.session.execute(select(Subscriber.email, Subscriber.status)).all())


def test_the_dry_run_reports_and_changes_nothing(app, runner, tmp_path):
    before = table_counts(app)
    result = _run(runner, tmp_path, LIST)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:7] == [
        "Rows read: 29",
        "Accepted: 2 (1 active with a consent source, 1 to be sent a confirmation email)",
        "Rejected: 27",
        "  invalid address: 26",
        "  duplicate: 1",
        "Ignored columns: notes",
        "First 20 rejected rows:",
    ]
    assert lines[7:10] == [
        "  line 4: ann@example.org: the same address is on line 2",
        "  line 5: =cmd|' /C calc'!A0: not a valid email address",
        "  line 6: bad0: not a valid email address",
    ]
    assert lines[27:] == ["Dry run: nothing was imported. Run again with --apply to import."]
    assert "Checking" in result.stderr
    assert table_counts(app) == before


def test_apply_imports_and_is_audited(app, runner, tmp_path, smtpd):
    result = _run(runner, tmp_path, LIST, "--apply")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "Imported 2 subscribers: 1 active, 1 sent a confirmation email."
    )
    assert _statuses(app) == {
        "ann@example.org": SubscriberStatus.ACTIVE,
        "raj@example.org": SubscriberStatus.PENDING,
    }
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "subscribers.import")
        ).one()
    assert (entry.actor, entry.target_type, entry.target_id) == ("cli", "Subscriber", None)
    assert entry.detail == {
        "filename": "list.csv",
        "rows": 29,
        "accepted": 2,
        "rejected": 27,
        "active": 1,
        "pending": 1,
    }
    send_queued(app)
    assert [m.rcpt_tos for m in smtpd.drain()] == [["raj@example.org"]]
    again = _run(runner, tmp_path, LIST, "--apply")
    assert "Accepted: 0 (0 active" in again.stdout
    assert "  already a subscriber: 2" in again.stdout


def test_rejects_lists_every_rejected_row_safe_to_open_in_a_spreadsheet(runner, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = _run(runner, tmp_path, LIST, "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert f"Wrote the 27 rejected rows to {rejects}." in result.stdout
    with rejects.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == [
        "line",
        "reason",
        "email",
        "topics",
        "frequency",
        "consent_source",
        "consent_date",
        "notes",
    ]
    assert len(rows) == 28
    assert rows[1] == [
        "4",
        "the same address is on line 2",
        "ann@example.org",
        "events",
        "",
        "",
        "",
    ]
    assert rows[2][:4] == ["5", "not a valid email address", "'=cmd|' /C calc'!A0", "funding"]


def test_a_file_that_cannot_be_read_is_an_error_with_exit_code_2(app, runner, tmp_path):
    before = table_counts(app)
    content = "email,topics\r\nzoë@example.org,funding\r\n".encode("latin-1")
    for options in ((), ("--apply",)):
        result = _run(runner, tmp_path, content, *options)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == (
            "Error: The file is not UTF-8 text (line 2 has a character that is not valid "
            "UTF-8): open it in your spreadsheet, save it as CSV UTF-8 (comma delimited) and "
            "try again"
        )
        assert result.stdout == ""
        assert "Traceback" not in result.output
    assert table_counts(app) == before


def test_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["import-subscribers", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_rejects_path_that_cannot_be_written_stops_before_any_import(app, runner, tmp_path):
    before = table_counts(app)
    rejects = tmp_path / "no such folder" / "rejects.csv"
    result = _run(runner, tmp_path, LIST, "--apply", "--rejects", str(rejects))
    assert result.exit_code == 2
    assert "Error: Invalid value for --rejects: No such file or directory" in result.stderr
    assert table_counts(app) == before


def test_an_import_interrupted_part_way_is_finished_by_running_it_again(
    app, runner, tmp_path, monkeypatch
):
    stop_after_chunks(monkeypatch, 2, KeyboardInterrupt())
    stopped = _run(runner, tmp_path, csv_file(*ROWS), "--apply")
    assert stopped.exit_code == 1
    assert "Aborted!" in stopped.stderr
    assert len(_statuses(app)) == 2000
    assert [d["accepted"] for d in audit_details(app, "subscribers.import_stopped")] == [2000]
    monkeypatch.undo()

    again = _run(runner, tmp_path, csv_file(*ROWS), "--apply")

    assert again.exit_code == 0, again.output
    assert "  already a subscriber: 2,000" in again.stdout
    assert again.stdout.splitlines()[-1] == (
        "Imported 500 subscribers: 0 active, 500 sent a confirmation email."
    )
    assert len(_statuses(app)) == 2500
