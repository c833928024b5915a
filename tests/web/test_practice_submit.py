"""Submitting a case study: the link by email (the same answer for every address), the
single-use link, the task list saved section by section, checks on every answer, attachments
checked by content, and sending it for review as a version."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyState
from mailer.models import CaseStudyVersion
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.tokens import case_study_token
from tests import TODAY
from tests.factories import load_directory
from tests.helpers import csrf_token
from tests.practice import ANSWERS
from tests.practice import SUBMITTER
from tests.practice import ask_for_link
from tests.practice import emailed_link
from tests.practice import fill_everything
from tests.practice import multipart
from tests.practice import open_link
from tests.practice import pdf_bytes
from tests.practice import save_section
from tests.practice import start_draft
from tests.practice import upload

BASE = "/effective-practice/submit"


@pytest.fixture
def app_settings(app_settings, tmp_path):
    app_settings["CASE_STUDY_FILES_DIR"] = str(tmp_path / "case-study-files")
    return app_settings


@pytest.fixture
def directory(app):
    with app.app_context():
        load_directory(now=TODAY)


def test_the_start_page_says_what_you_need(client):
    page = client.get(BASE).get_data(as_text=True)
    assert "Submit an effective practice case study" in page
    assert "do not need an account" in page
    assert f'href="{BASE}/email"' in page


def test_the_link_arrives_by_email_and_works_once(app, client, smtpd):
    asked = ask_for_link(client)
    assert asked.status_code == 302
    assert client.get(asked.headers["Location"]).status_code == 200
    received, path = emailed_link(app, smtpd)
    assert received.rcpt_tos == [SUBMITTER]
    assert received.message["Subject"] == "Your link to your case study"
    assert "List-Unsubscribe" not in received.message
    assert path in received.html
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # Opening the page (as a mail scanner does) spends nothing; pressing Continue does.
    assert client.get(path).status_code == 200
    opened = open_link(client, path)
    assert opened.status_code == 302
    task_list = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "Not yet started" in task_list
    used = client.get(path)
    assert used.status_code == 400
    assert "This link is not valid" in used.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(CaseStudy.links_used)) == 1


def test_a_new_link_replaces_the_used_one_with_the_same_answer_for_any_address(app, client, smtpd):
    start_draft(app, client, smtpd)
    url = f"{BASE}/new-link"
    answers = []
    for email in (SUBMITTER, "stranger@example.com"):
        response = client.post(url, data={"csrf_token": csrf_token(client, url), "email": email})
        answers.append((response.status_code, response.headers["Location"]))
    assert answers[0] == answers[1]
    received, path = emailed_link(app, smtpd)
    assert received.rcpt_tos == [SUBMITTER]
    assert smtpd.drain() == []
    other = app.test_client()
    assert open_link(other, path).status_code == 302


def test_a_malformed_address_gets_an_error_summary(client):
    refused = ask_for_link(client, "not an address")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert "Enter an email address in the correct format" in page
    assert "<title>Error: " in page


def test_tampered_and_expired_links_get_clear_pages(app, client, monkeypatch):
    with app.app_context():
        good = case_study_token(1, 0)
        then = time.time() - 8 * 86400
        monkeypatch.setattr("itsdangerous.timed.time", SimpleNamespace(time=lambda: then))
        old = case_study_token(1, 0)
        monkeypatch.undo()
    tampered = client.get(f"{BASE}/link/{good[:-3]}abc")
    assert tampered.status_code == 400
    assert "This link is not valid" in tampered.get_data(as_text=True)
    expired = client.get(f"{BASE}/link/{old}")
    assert expired.status_code == 400
    assert "This link has expired" in expired.get_data(as_text=True)
    assert client.post(f"{BASE}/link/{old}").status_code == 400


def test_without_the_link_a_browser_cannot_see_a_draft(app, client, smtpd):
    draft = start_draft(app, client, smtpd)
    stranger = app.test_client()
    refused = stranger.get(f"{BASE}/{draft}")
    assert refused.status_code == 403
    assert "Open the link in your email" in refused.get_data(as_text=True)
    assert stranger.get(f"{BASE}/{draft}/case-study").status_code == 403


def test_sections_save_as_in_progress_or_completed(app, client, smtpd):
    draft = start_draft(app, client, smtpd)
    saved = save_section(client, draft, "case-study", {"title": "Lights", "summary": ""}, "no")
    assert saved.status_code == 302
    page = client.get(f"{BASE}/{draft}").get_data(as_text=True)
    assert "In progress" in page
    refused = save_section(client, draft, "case-study", {"title": "Lights", "summary": ""})
    assert refused.status_code == 400
    assert "Enter an answer to ‘Summary’" in refused.get_data(as_text=True)
    done = save_section(client, draft, "case-study", ANSWERS["case-study"])
    assert done.status_code == 302
    page = client.get(f"{BASE}/{draft}").get_data(as_text=True)
    assert "You have completed 1 of 13 sections" in page
    form = client.get(f"{BASE}/{draft}/case-study").get_data(as_text=True)
    assert 'data-maxwords="400"' in form
    assert "Safer streets through street lighting" in form


@pytest.mark.parametrize(
    ("key", "data", "message"),
    [
        ("case-study", {"title": "x" * 201, "summary": "s"}, "Title must be 200 characters"),
        ("case-study", {"title": "Line\r\nBcc: x@example.com", "summary": "s"}, "on one line"),
        ("case-study", {"title": "T", "summary": "word " * 401}, "400 words or fewer"),
        ("problem", {"problem": "p" * 5001, "data_used": "d"}, "5,000 characters or fewer"),
        ("about", {"themes": ["nope"], "nation": "england", "area": "A"}, "Select from the list"),
        ("dates", {"started-month": "13", "started-year": "2024"}, "must be a real date"),
        ("dates", {"started-month": "3", "started-year": "24"}, "a month and a year"),
        (
            "dates",
            {
                "started-month": "3",
                "started-year": "2024",
                "ended-month": "1",
                "ended-year": "2024",
            },
            "same as or after the start date",
        ),
        ("declaration", {}, "Tick the box to confirm"),
    ],
)
def test_bad_answers_are_refused_with_an_error_summary(app, client, smtpd, key, data, message):
    draft = start_draft(app, client, smtpd)
    refused = save_section(client, draft, key, data)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert message in page


def test_a_complete_case_study_is_sent_as_a_version(app, client, smtpd, directory):
    draft = start_draft(app, client, smtpd)
    early = client.post(
        f"{BASE}/{draft}/check", data={"csrf_token": csrf_token(client, f"{BASE}/{draft}/check")}
    )
    assert early.status_code == 400
    assert "Complete the section ‘The case study’" in early.get_data(as_text=True)
    fill_everything(client, draft)
    check = client.get(f"{BASE}/{draft}/check").get_data(as_text=True)
    assert "Barnet" in check
    assert "Burglary, Vehicle crime" in check
    sent = client.post(
        f"{BASE}/{draft}/check", data={"csrf_token": csrf_token(client, f"{BASE}/{draft}/check")}
    )
    assert sent.status_code == 302
    assert "Case study sent" in client.get(sent.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        case_study = db.session.scalars(select(CaseStudy)).one()
        assert case_study.state is CaseStudyState.SUBMITTED
        assert case_study.csp.code == "E22000187"
        assert case_study.started_on.isoformat() == "2024-03-01"
        version = db.session.scalars(select(CaseStudyVersion)).one()
        assert version.number == 1
        assert version.content["title"] == "Safer streets through street lighting"
    # Once sent, the submitter can no longer change it.
    assert client.get(f"{BASE}/{draft}/case-study").status_code == 403


def test_attachments_are_checked_by_content_and_kept_outside_the_web_root(
    app, client, smtpd, tmp_path
):
    draft = start_draft(app, client, smtpd)
    url = f"{BASE}/{draft}/attachments"
    fake = upload(client, url, "report.pdf", b"<html><script>alert(1)</script></html>")
    assert fake.status_code == 400
    assert "must be a PDF" in fake.get_data(as_text=True)
    real = upload(client, url, "../../Évaluation: report.pdf", pdf_bytes())
    assert real.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Évaluation_ report.pdf" in page
    with app.app_context():
        case_study = db.session.get(CaseStudy, draft)
        (attachment,) = case_study.attachments
        stored = tmp_path / "case-study-files" / attachment.storage_key
        assert stored.read_bytes() == pdf_bytes()
        assert attachment.storage_key not in attachment.filename
    removed = client.post(
        f"{url}/{attachment.id}/remove", data={"csrf_token": csrf_token(client, url)}
    )
    assert removed.status_code == 302
    assert not stored.exists()


def test_the_size_limit_is_10_mb_on_uploads_only(app, client, smtpd):
    draft = start_draft(app, client, smtpd)
    url = f"{BASE}/{draft}/attachments"
    just_under = pdf_bytes() + b"0" * (10 * 1024 * 1024 - len(pdf_bytes()))
    assert upload(client, url, "full.pdf", just_under).status_code == 302
    big = pdf_bytes() + b"0" * (10 * 1024 * 1024)
    refused = upload(client, url, "big.pdf", big)
    assert refused.status_code == 400
    assert "smaller than 10 MB" in refused.get_data(as_text=True)
    assert upload(client, url, "huge.pdf", b"0" * (11 * 1024 * 1024)).status_code == 413
    # Other pages keep their own limits.
    body, content_type = multipart({"csrf_token": "x"}, "big.pdf", big)
    elsewhere = client.post(f"{BASE}/{draft}/case-study", data=body, content_type=content_type)
    assert elsewhere.status_code == 413


def test_links_to_a_draft_are_emailed_only_while_it_is_a_draft(app, client, smtpd):
    start_draft(app, client, smtpd)
    with app.app_context():
        kinds = db.session.scalars(select(Delivery.kind)).all()
        assert kinds == [MessageKind.CASE_STUDY_LINK]
