"""The yearly reminder: each partnership not confirmed for 12 months is asked once a year,
through the delivery queue, and the job's CLI twin says whom it would ask."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

from sqlalchemy import select

from mailer import jobs
from mailer.domain.directory.self_service import due_for_reminder
from mailer.domain.directory.self_service import remind_due
from mailer.extensions import db
from mailer.models import CspStatus
from mailer.models import Delivery
from mailer.models import MessageKind
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import link
from tests.helpers import send_queued

DAY = TODAY.date()


def load(app) -> None:
    with app.app_context():
        load_directory(
            now=TODAY,
            # Confirmed a year ago to the day: due.
            E22000187={"email": "csp@barnet.example.gov.uk", "last_confirmed": date(2025, 11, 25)},
            # Confirmed 364 days ago: not yet.
            E22000188={"email": "csp@bexley.example.gov.uk", "last_confirmed": date(2025, 11, 26)},
            # Never confirmed: due.
            E22000189={"email": "csp@brent.example.gov.uk"},
            # Never confirmed, but no mailbox to ask.
            E22000190={},
            # Ended: never asked.
            E22000191={"email": "csp@camden.example.gov.uk", "status": CspStatus.ENDED},
        )


def test_the_reminder_asks_each_partnership_due_once_a_year(app, smtpd):
    load(app)
    with app.app_context():
        assert remind_due(now=TODAY) == 2
        db.session.commit()
    assert send_queued(app, now=TODAY).sent == 2
    received = sorted(smtpd.drain(), key=lambda m: m.rcpt_tos)
    assert [m.rcpt_tos for m in received] == [
        ["csp@barnet.example.gov.uk"],
        ["csp@brent.example.gov.uk"],
    ]
    assert received[0].message["Subject"] == (
        "Please confirm the contact details of Barnet Community Safety Partnership"
    )
    assert "We ask each partnership once a year" in received[0].text
    assert link(received[0].text, "/csps/update/")

    with app.app_context():
        # Later the same year nobody is asked again; Bexley has become due since.
        assert [c.code for c in due_for_reminder(now=TODAY + timedelta(days=1))] == ["E22000188"]
        assert [c.code for c in due_for_reminder(now=TODAY + timedelta(days=364))] == ["E22000188"]
        # A year on, those asked and still not confirmed are asked again.
        year_on = [c.code for c in due_for_reminder(now=TODAY + timedelta(days=365))]
        assert year_on == ["E22000187", "E22000188", "E22000189"]


def test_the_job_and_its_cli_twin_queue_the_reminders_once(app, runner):
    load(app)
    dry = runner.invoke(args=["remind-csps", "--dry-run"])
    assert dry.exit_code == 0
    assert "Would ask: E22000187 Barnet <csp@barnet.example.gov.uk>" in dry.output
    # The job and the command read the clock, as the scheduler would: by now (after
    # 26 November 2026) Bexley's confirmation is a year old too.
    assert "Dry run: 3 partnerships would be asked; nothing was sent." in dry.output
    assert jobs.remind_partnerships(app) == 3
    again = runner.invoke(args=["remind-csps"])
    assert again.output == "Asked 0 partnerships to confirm their contact details.\n"
    with app.app_context():
        kinds = db.session.scalars(select(Delivery.kind)).all()
        assert kinds == [MessageKind.CSP_REMINDER] * 3
