"""Staff reviewing case studies: the queue, versions and what changed, asking for changes
(the submitter edits from a new link and resubmits), publishing with news for the topic's
subscribers (an alert at once, the digest later), rejecting; each step's email in the SMTP
sink and in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import jobs
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import CaseStudy
from mailer.models import CaseStudyState
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import NewsItem
from mailer.models import StaffRole
from tests import TODAY
from tests.factories import add_readers
from tests.factories import load_directory
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import logged_in
from tests.helpers import send_queued
from tests.practice import ANSWERS
from tests.practice import SUBMITTER
from tests.practice import emailed_link
from tests.practice import fill_everything
from tests.practice import open_link
from tests.practice import pdf_bytes
from tests.practice import save_section
from tests.practice import start_draft
from tests.practice import upload

STAFF = "/staff/case-studies"


@pytest.fixture
def app_settings(app_settings, tmp_path):
    app_settings["CASE_STUDY_FILES_DIR"] = str(tmp_path / "case-study-files")
    return app_settings


@pytest.fixture
def practitioner(app):
    return app.test_client()


@pytest.fixture
def editor(app):
    return logged_in(app, app.test_client(), EDITOR, StaffRole.EDITOR, now=TODAY)


@pytest.fixture
def submitted(app, practitioner, smtpd):
    """A case study sent for review, with a PDF; the link email already read."""
    with app.app_context():
        load_directory(now=TODAY)
    draft = start_draft(app, practitioner, smtpd)
    fill_everything(practitioner, draft)
    url = f"/effective-practice/submit/{draft}/attachments"
    assert upload(practitioner, url, "evaluation.pdf", pdf_bytes()).status_code == 302
    check = f"/effective-practice/submit/{draft}/check"
    sent = practitioner.post(check, data={"csrf_token": csrf_token(practitioner, check)})
    assert sent.status_code == 302
    return draft


def step(client, case_study_id, action, **data):
    page = f"{STAFF}/{case_study_id}"
    form = {"csrf_token": csrf_token(client, page), **data}
    return client.post(f"{page}/{action}", data=form)


def test_the_queue_lists_case_studies_by_state_with_counts(editor, submitted):
    page = editor.get(STAFF).get_data(as_text=True)
    assert "Case studies" in page
    assert "Submitted (1)" in page
    assert "Safer streets through street lighting" in page
    assert "Barnet" in page
    assert "There are no case studies here." in editor.get(f"{STAFF}?state=published").get_data(
        as_text=True
    )
    assert editor.get(f"{STAFF}?state=nonsense").status_code == 404
    assert editor.get(f"{STAFF}/99999").status_code == 404


def test_changes_requested_are_emailed_and_the_resubmission_is_a_new_version(
    app, editor, practitioner, submitted, smtpd
):
    assert step(editor, submitted, "review").status_code == 302
    missing = step(editor, submitted, "changes", notes="")
    assert missing.status_code == 400
    assert "govuk-error-summary" in missing.get_data(as_text=True)
    notes = "Please give the cost per street.\nAnd the dates of the evaluation."
    assert step(editor, submitted, "changes", notes=notes).status_code == 302
    received, path = emailed_link(app, smtpd)
    assert received.rcpt_tos == [SUBMITTER]
    assert received.message["Subject"] == "Changes to your case study"
    assert "Please give the cost per street." in received.text
    # The emailed link lets a new browser edit it; the old session may still, too.
    returning = app.test_client()
    assert open_link(returning, path).status_code == 302
    task_list = returning.get(f"/effective-practice/submit/{submitted}").get_data(as_text=True)
    assert "We asked you to make changes" in task_list
    changed = {**ANSWERS["cost"], "cost": "£120,000, or £6,000 per street"}
    assert save_section(returning, submitted, "cost", changed).status_code == 302
    check = f"/effective-practice/submit/{submitted}/check"
    assert (
        returning.post(check, data={"csrf_token": csrf_token(returning, check)}).status_code == 302
    )
    page = editor.get(f"{STAFF}/{submitted}").get_data(as_text=True)
    assert "Version 2" in page
    assert "Version 1" in page
    assert "Changed since version 1: Cost." in page
    assert "£6,000 per street" in page
    assert "asked for changes to" in page
    assert "The submitter sent" in page


def test_publishing_alerts_the_topic_and_tells_the_submitter(app, editor, client, submitted, smtpd):
    with app.app_context():
        add_readers(1, follows={"effective-practice": Frequency.IMMEDIATE}, now=TODAY)
        add_readers(
            1, follows={"effective-practice": Frequency.DAILY}, domain="d.example", now=TODAY
        )
        db.session.commit()
        attachment_id = db.session.get(CaseStudy, submitted).attachments[0].id
    hidden = (
        f"/effective-practice/safer-streets-through-street-lighting/attachments/{attachment_id}"
    )
    assert client.get(hidden).status_code == 404
    assert step(editor, submitted, "publish", alert="yes").status_code == 302
    page = editor.get(f"{STAFF}/{submitted}").get_data(as_text=True)
    assert "/effective-practice/safer-streets-through-street-lighting" in page
    with app.app_context():
        case_study = db.session.get(CaseStudy, submitted)
        assert case_study.state is CaseStudyState.PUBLISHED
        assert case_study.slug == "safer-streets-through-street-lighting"
        assert "Burglary" in case_study.search_text
        assert "Barnet" in case_study.search_text
        item = db.session.scalars(select(NewsItem)).one()
        published_at = item.published_at
    # The submitter's email, then the alert to the immediate reader, through the send runs.
    assert send_queued(app).sent == 1
    told = smtpd.get()
    assert told.rcpt_tos == [SUBMITTER]
    assert told.message["Subject"] == "Your case study is published"
    assert link(told.text, "/effective-practice/").endswith("safer-streets-through-street-lighting")
    assert jobs.send_alerts(app) == 1
    assert send_queued(app).sent == 1
    alert = smtpd.get()
    assert alert.rcpt_tos == ["reader0@example.org"]
    assert "Safer streets through street lighting" in alert.message["Subject"]
    assert client.get(link(alert.text, "/news/")).status_code == 200
    # The daily reader finds it in the digest of that day.
    with app.app_context():
        schedule = periods.Schedule.from_config(app.config)
        end = schedule.next_end(Frequency.DAILY, published_at)
        period = schedule.period_ending(Frequency.DAILY, end)
        send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=end)
        db.session.commit()
    assert send_queued(app, now=end + timedelta(minutes=1)).sent == 1
    digest = smtpd.get()
    assert digest.rcpt_tos == ["reader1@d.example"]
    assert "Safer streets through street lighting" in digest.text
    # Its file is public now, as a download.
    download = client.get(hidden)
    assert download.status_code == 200
    assert download.data == pdf_bytes()
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"evaluation.pdf\"; filename*=UTF-8''evaluation.pdf"
    )


def test_publishing_without_the_alert_makes_no_news(app, editor, submitted, smtpd):
    assert step(editor, submitted, "publish").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NewsItem)) == 0
        kinds = db.session.scalars(select(Delivery.kind).order_by(Delivery.id)).all()
        assert kinds == [MessageKind.CASE_STUDY_LINK, MessageKind.CASE_STUDY_PUBLISHED]
    # Publishing twice is refused and sends nothing more.
    assert step(editor, submitted, "publish").status_code == 409


def test_rejecting_tells_the_submitter_why(app, editor, submitted, smtpd):
    assert step(editor, submitted, "reject", reason="x" * 2001).status_code == 400
    assert (
        step(editor, submitted, "reject", reason="It describes a national scheme.").status_code
        == 302
    )
    assert send_queued(app).sent == 1
    told = smtpd.get()
    assert told.message["Subject"] == "Your case study will not be published"
    assert "It describes a national scheme." in told.text
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-1] == "case_study.reject"
    page = editor.get(f"{STAFF}/{submitted}").get_data(as_text=True)
    assert re.search(r"rejected\s*<a [^>]*>Safer streets through street lighting</a>", page)
    assert 'id="state">Rejected<' in page


def test_staff_can_download_a_file_before_it_is_published(app, editor, submitted):
    with app.app_context():
        attachment_id = db.session.get(CaseStudy, submitted).attachments[0].id
    download = editor.get(f"{STAFF}/{submitted}/attachments/{attachment_id}")
    assert download.status_code == 200
    assert download.data == pdf_bytes()
    assert (
        app.test_client().get(f"{STAFF}/{submitted}/attachments/{attachment_id}").status_code == 302
    )


def test_the_staff_navigation_links_to_the_queue(editor):
    assert f'href="{STAFF}"' in editor.get("/staff/").get_data(as_text=True)
