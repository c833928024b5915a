"""The dry run: what each row of a list would become, and files refused as a whole."""

from __future__ import annotations

import pytest

from mailer.domain import suppressions
from mailer.domain.imports import check_import
from mailer.domain.imports.files import ImportFileError
from mailer.domain.imports.rows import Reason
from mailer.extensions import db
from mailer.models import SubscriberStatus
from mailer.models import SuppressionReason
from tests.factories import make_subscriber
from tests.imports.conftest import HEADER
from tests.imports.conftest import NOW
from tests.imports.conftest import csv_file
from tests.imports.conftest import table_counts


def _check(app, content, **options):
    with app.app_context():
        return check_import(content, now=NOW, **options)


def _rejected(report):
    return [(r.line, r.reason, r.message) for r in report.rejections]


def _refused(app, content):
    with pytest.raises(ImportFileError) as caught:
        _check(app, content)
    return caught.value.message


def test_rows_with_a_consent_source_are_active_and_the_others_pending(app):
    report = _check(
        app,
        csv_file(
            'ann@example.org,funding;events,weekly,"paper form, CSP conference 2025",2025-03-14',
            "raj@example.org,consultations,,,",
            "lee@example.org,Funding ; EVENTS ;,Daily,,2025-03-14",
        ),
    )
    assert (report.rows, report.active, report.pending, report.rejected) == (3, 1, 2, 0)
    assert report.ignored_columns == ()


def test_every_kind_of_bad_row_is_rejected_with_its_line_and_a_reason(app):
    with app.app_context():
        make_subscriber(email="pending@example.org", status=SubscriberStatus.PENDING, now=NOW)
        make_subscriber(email="active@example.org", status=SubscriberStatus.ACTIVE, now=NOW)
        make_subscriber(email="left@example.org", status=SubscriberStatus.UNSUBSCRIBED, now=NOW)
        make_subscriber(email="stopped@example.org", status=SubscriberStatus.SUPPRESSED, now=NOW)
        suppressions.suppress(
            "bounced@example.org", SuppressionReason.HARD_BOUNCE, actor="test", now=NOW
        )
        suppressions.suppress("gone@example.org", SuppressionReason.ERASED, actor="test", now=NOW)
        db.session.commit()
    report = _check(
        app,
        csv_file(
            "not-an-address,funding,,,",
            ",funding,,,",
            "a@example.org,funding;gardening;knitting,,,",
            "b@example.org, ; ,,,",
            "c@example.org,funding,hourly,,",
            "d@example.org,funding,,paper form,2026-07-16",
            "e@example.org,funding,,paper form,14/03/2025",
            "f@example.org,funding,,paper form,",
            f"g@example.org,funding,,{'x' * 201},2025-03-14",
            'h@example.org,funding,,"paper\nform",2025-03-14',
            "BOUNCED@example.org,funding,,,",
            "gone@example.org,funding,,,",
            "k@example.org,funding,,,",
            "K@Example.org,events,,,",
            "pending@example.org,funding,,,",
            "Active@example.org,funding,,,",
            "left@example.org,funding,,,",
            "stopped@example.org,funding,,,",
        ),
    )
    assert _rejected(report) == [
        (2, Reason.INVALID_ADDRESS, "not a valid email address"),
        (3, Reason.INVALID_ADDRESS, "no email address"),
        (4, Reason.UNKNOWN_TOPIC, "unknown topics “gardening”, “knitting”"),
        (5, Reason.NO_TOPICS, "no topics: name at least one, like funding;events"),
        (6, Reason.INVALID_FREQUENCY, "frequency “hourly” is not immediate, daily or weekly"),
        (7, Reason.INVALID_CONSENT_DATE, "consent date 2026-07-16 is in the future"),
        (
            8,
            Reason.INVALID_CONSENT_DATE,
            "consent date “14/03/2025” is not a date like 2025-03-14 "
            "or a date and time like 2025-03-14T09:30:00Z",
        ),
        (9, Reason.INVALID_CONSENT_DATE, "no consent date: it is needed with a consent source"),
        (10, Reason.INVALID_CONSENT_SOURCE, "the consent source is longer than 200 characters"),
        (
            11,
            Reason.INVALID_CONSENT_SOURCE,
            "the consent source contains line breaks or control characters",
        ),
        (13, Reason.SUPPRESSED, "the address is on the suppression list"),
        (14, Reason.SUPPRESSED, "the address is on the suppression list"),
        (16, Reason.DUPLICATE, "the same address is on line 15"),
        (17, Reason.EXISTING, "already a subscriber (pending)"),
        (18, Reason.EXISTING, "already a subscriber (active)"),
        (
            19,
            Reason.UNSUBSCRIBED,
            "unsubscribed: only a new sign-up through the subscribe form can bring them back",
        ),
        (
            20,
            Reason.UNSUBSCRIBED,
            "suppressed: only a new sign-up through the subscribe form can bring them back",
        ),
    ]
    assert (report.rows, report.accepted, report.pending) == (18, 1, 1)
    assert report.reasons()[:3] == [
        (Reason.INVALID_ADDRESS, 2),
        (Reason.NO_TOPICS, 1),
        (Reason.UNKNOWN_TOPIC, 1),
    ]


def test_a_consent_date_may_have_a_time_and_must_not_be_in_the_future(app):
    report = _check(
        app,
        csv_file(
            "a@example.org,funding,,form,2026-07-15T12:00:00Z",
            "b@example.org,funding,,form,2026-07-15T13:00:00+01:00",
            "c@example.org,funding,,form,2026-07-15T12:00:01Z",
            "d@example.org,funding,,form,2026-07-15",
        ),
    )
    assert _rejected(report) == [
        (4, Reason.INVALID_CONSENT_DATE, "consent date 2026-07-15T12:00:01+00:00 is in the future")
    ]


def test_an_address_with_a_header_injected_in_a_quoted_field_is_invalid(app):
    report = _check(app, csv_file('"a@example.org\r\nBcc: x@evil.example",funding,,,'))
    [rejection] = report.rejections
    assert (rejection.reason, rejection.message) == (
        Reason.INVALID_ADDRESS,
        "the address contains line breaks or control characters",
    )
    assert rejection.address == "a@example.org\r\nBcc: x@evil.example"
    assert rejection.shown_address == "a@example.org\\r\\nBcc: x@evil.example"


def test_header_names_ignore_case_and_spaces_and_other_columns_are_named(app):
    content = csv_file(
        "Ann,ann@example.org,funding,call her",
        header=" Name , EMAIL ,Topics,Notes",
        bom=True,
    )
    report = _check(app, content)
    assert (report.rows, report.accepted) == (1, 1)
    assert report.ignored_columns == ("Name", "Notes")


def test_blank_rows_are_skipped_and_lines_count_from_the_header(app):
    report = _check(
        app,
        csv_file(
            "",
            ",,,,",
            '"multi@example.org",funding,,"line one',
            'line two",2025-01-01',
            "bad,funding,,,",
        ),
    )
    assert report.rows == 2
    assert [(r.line, r.reason) for r in report.rejections] == [
        (4, Reason.INVALID_CONSENT_SOURCE),
        (6, Reason.INVALID_ADDRESS),
    ]


def test_old_mac_line_ends_are_read_as_line_ends(app):
    report = _check(app, b'email,topics\ra@example.org,funding\r"b@example.org",events\r')
    assert (report.rows, report.accepted) == (2, 2)


def test_the_dry_run_changes_nothing(app):
    before = table_counts(app)
    report = _check(
        app, csv_file("ann@example.org,funding,,form,2025-03-14", "raj@example.org,events,,,")
    )
    assert report.accepted == 2
    assert table_counts(app) == before


def test_progress_is_reported_in_rows_done(app):
    done = []
    _check(
        app, csv_file(*[f"r{n}@example.org,funding,,," for n in range(2500)]), progress=done.append
    )
    assert done == [1000, 2000, 2500]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf \r\n", "The file is empty"),
        (
            "email,topics,consent_source\r\nzoë@example.org,funding,Café\r\n".encode("latin-1"),
            "The file is not UTF-8 text (line 2 has a character that is not valid UTF-8): "
            "open it in your spreadsheet, save it as CSV UTF-8 (comma delimited) and try again",
        ),
        (
            "email,topics\r\na@example.org,funding\r\n".encode("utf-16"),
            "The file is saved as UTF-16 text, not UTF-8: open it in your spreadsheet, "
            "save it as CSV UTF-8 (comma delimited) and try again",
        ),
        (
            "email,topics\r\na@example.org,funding\r\n".encode("utf-16-le"),
            "The file is saved as UTF-16 text, not UTF-8",
        ),
        (
            b"email,topics\r\na@example.org\x00,funding\r\n",
            "The file contains NUL bytes, so it is not a CSV text file",
        ),
        (
            b"email,topics\r\na@example.org,funding\r\n" + b"b@example.org," + b"x" * 200_000,
            "Line 3 has a field longer than 131,072 characters",
        ),
        (
            b'email,topics\r\na@example.org,"funding\r\nb@example.org,events\r\n',
            "Line 2 is not valid CSV (unexpected end of data)",
        ),
        (b'email,topics\r\na@example.org,"fund"ing\r\n', "Line 2 is not valid CSV"),
        (
            b"ann@example.org,funding\r\n",
            "The first line must be a header row naming the columns: email, topics, and "
            "optionally frequency, consent_source and consent_date",
        ),
        (b"\r\nemail,topics\r\n", "The first line must be a header row"),
        (b"address,topics\r\na@example.org,funding\r\n", "The header row has no email column"),
        (b"email,frequency\r\na@example.org,daily\r\n", "The header row has no topics column"),
        (b"email,topics,Email\r\n", "The column email appears twice in the header row"),
        (
            b"email;topics\r\na@example.org;funding\r\n",
            "The columns are separated by semicolons, not commas",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_one_clear_message(app, content, message):
    assert _refused(app, content).startswith(message)


def test_a_file_with_too_many_rows_or_bytes_is_refused(app):
    app.config.update(IMPORT_MAX_ROWS=3, IMPORT_MAX_BYTES=1024 * 1024)
    rows = [f"r{n}@example.org,funding,,," for n in range(4)]
    assert _check(app, csv_file(*rows[:3])).rows == 3
    assert _refused(app, csv_file(*rows)) == (
        "The file has more than 3 rows: split it into smaller files"
    )
    large = csv_file(*rows[:3], header=HEADER + "," * 1024 * 1024)
    assert _refused(app, large) == "The file is larger than 1 MB: split it into smaller files"
