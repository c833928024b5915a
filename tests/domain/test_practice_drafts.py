"""Drafts: a link works once and every older link stops with it; sections keep their
status; submitting needs every section and keeps a version; review steps follow the states
and each queues one email with its audit record."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from mailer.domain import practice_drafts as drafts
from mailer.domain import practice_review as review
from mailer.domain.practice_tasks import TASK_KEYS
from mailer.domain.practice_tasks import read_task
from mailer.domain.practice_tasks import word_count
from mailer.errors import FieldErrors
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import CaseStudyState
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.tokens import case_study_token
from tests import TODAY
from tests.practice import ANSWERS


def _complete(case_study):
    for key, data in ANSWERS.items():
        if key == "who":
            data = {**data, "csp": ""}
        task = TASK_KEYS[key]
        values = read_task(task, MultiDict(data), complete=key != "who", csps=set())
        drafts.save_task(case_study, task, values, complete=True, now=TODAY)


def test_a_link_works_once_and_spends_every_older_link(app):
    with app.app_context():
        case_study = drafts.start_draft("sam@example.com", now=TODAY)
        first = case_study_token(case_study.id, case_study.links_used)
        second = case_study_token(case_study.id, case_study.links_used)
        drafts.use_link(first, now=TODAY)
        with pytest.raises(InvalidToken):
            drafts.use_link(first, now=TODAY)
        with pytest.raises(InvalidToken):
            drafts.use_link(second, now=TODAY)
        fresh = case_study_token(case_study.id, case_study.links_used)
        assert drafts.use_link(fresh, now=TODAY) is case_study


def test_resending_links_reaches_only_that_addresss_drafts(app):
    with app.app_context():
        drafts.start_draft("sam@example.com", now=TODAY)
        assert drafts.resend_links("sam@example.com", now=TODAY) == 1
        assert drafts.resend_links("nobody@example.com", now=TODAY) == 0


def test_submitting_needs_every_section_and_keeps_a_version(app):
    with app.app_context():
        case_study = drafts.start_draft("sam@example.com", now=TODAY)
        with pytest.raises(FieldErrors) as refused:
            drafts.submit(case_study, now=TODAY)
        assert "case-study" in refused.value.errors
        _complete(case_study)
        assert drafts.task_status(case_study, "attachments") == drafts.NOT_STARTED
        version = drafts.submit(case_study, now=TODAY)
        assert version.number == 1
        assert version.content["crime_types"] == ["Burglary", "Vehicle crime"]
        assert case_study.state is CaseStudyState.SUBMITTED
        with pytest.raises(drafts.NotEditable):
            drafts.save_task(case_study, TASK_KEYS["cost"], {"cost": "x"}, complete=True, now=TODAY)


def test_review_steps_follow_the_states_and_queue_one_email_each(app):
    with app.app_context():
        case_study = drafts.start_draft("sam@example.com", now=TODAY)
        _complete(case_study)
        with pytest.raises(review.ReviewStateError):
            review.publish(case_study, actor="test", now=TODAY)
        drafts.submit(case_study, now=TODAY)
        review.start_review(case_study, actor="test", now=TODAY)
        review.request_changes(case_study, "More data", actor="test", now=TODAY)
        drafts.submit(case_study, now=TODAY)
        review.publish(case_study, actor="test", now=TODAY)
        with pytest.raises(review.ReviewStateError):
            review.reject(case_study, "Too late", actor="test", now=TODAY)
        db.session.commit()
        kinds = db.session.scalars(select(Delivery.kind).order_by(Delivery.id)).all()
        assert kinds == [
            MessageKind.CASE_STUDY_LINK,
            MessageKind.CASE_STUDY_CHANGES,
            MessageKind.CASE_STUDY_PUBLISHED,
        ]
        assert [v.number for v in review.versions(case_study)] == [2, 1]
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == [
            "case_study.start",
            "case_study.submit",
            "case_study.review",
            "case_study.changes",
            "case_study.submit",
            "case_study.publish",
        ]
        assert review.state_counts()[CaseStudyState.PUBLISHED] == 1


def test_words_are_counted_as_the_character_count_does():
    assert word_count("  one two\nthree\t four  ") == 4
    assert word_count("") == 0


def test_changed_fields_name_what_differs():
    assert review.changed_fields({"title": "a", "cost": "1"}, {"title": "a", "cost": "2"}) == [
        "cost"
    ]


def test_the_news_of_a_case_study_has_a_plain_subject(app):
    with app.app_context():
        case_study = drafts.start_draft("sam@example.com", now=TODAY)
        _complete(case_study)
        case_study.title = "Lights =?utf-8?q?Bcc=3A_x=40example.com?= on"
        drafts.submit(case_study, now=TODAY)
        review.publish(case_study, actor="test", now=TODAY)
        item = review.publish_alert(case_study, "https://example.org/p", actor="test", now=TODAY)
        assert "=?" not in item.title
        assert item.topics[0].slug == "effective-practice"
        assert "(https://example.org/p)" in item.body_markdown
