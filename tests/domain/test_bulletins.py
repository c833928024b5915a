"""Bulletins in the domain: validation, drafts, the two-person rule, sending and scheduling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from mailer import clock
from mailer import jobs
from mailer.domain import bulletins
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Bulletin
from mailer.models import BulletinState
from mailer.models import Frequency
from mailer.models import NewsState
from mailer.models import SendRun
from mailer.models import SubscriberStatus
from mailer.models import Topic
from tests import TODAY
from tests.factories import add_readers
from tests.factories import publish_news

ANN = "staff:1 ann@example.gov.uk"
BOB = "staff:2 bob@example.gov.uk"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


def _content(**fields):
    values = {
        "subject": "Winter funding round",
        "body": "Dear partners,\n\nThe **winter round** is open.",
        "everyone": False,
        "topic_slugs": ["funding"],
        "item_ids": [],
        "public": True,
    }
    return bulletins.validate(**(values | fields))


def _errors(**fields):
    with pytest.raises(FieldErrors) as caught:
        _content(**fields)
    return caught.value.errors


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"subject": ""}, "subject", "Enter a subject"),
        ({"subject": "x" * 201}, "subject", "Subject must be 200 characters or fewer"),
        ({"subject": "Two\nlines"}, "subject", "must not contain control characters"),
        ({"subject": "=?utf-8?q?=0D=0ABcc:_x?="}, "subject", "encoded text"),
        ({"subject": 42}, "subject", "Subject must be text"),
        ({"body": "\x00"}, "body", "control characters"),
        ({"topic_slugs": []}, "topics", "Select at least one topic, or send it to everyone"),
        ({"topic_slugs": ["no-such-topic"]}, "topics", "There is no topic 'no-such-topic'"),
        ({"topic_slugs": "funding"}, "topics", "Topics must be a list"),
        ({"everyone": True}, "topics", "Choose everyone or some topics, not both"),
        ({"everyone": "yes"}, "everyone", "Everyone must be true or false"),
        ({"public": None}, "public", "Public must be true or false"),
        ({"item_ids": [2**40]}, "items", "News item 1099511627776 is not a published"),
        ({"item_ids": [999]}, "items", "News item 999 is not a published news item"),
        ({"item_ids": ["1"]}, "items", "Items must be a list of news item ids"),
        ({"item_ids": [True]}, "items", "Items must be a list of news item ids"),
        ({"item_ids": list(range(1, 30))}, "items", "Feature 20 news items or fewer"),
    ],
)
def test_bad_fields_are_refused_with_a_clear_message(ctx, fields, field, message):
    assert message in _errors(**fields)[field]


def test_a_retired_topic_cannot_be_chosen(ctx):
    db.session.scalars(select(Topic).where(Topic.slug == "events")).one().retired_at = TODAY
    assert _errors(topic_slugs=["events"])["topics"] == (
        "The topic Events is retired: choose another"
    )


def test_a_withdrawn_item_cannot_be_featured(ctx):
    item = publish_news("Gone", at=TODAY)
    item.state = NewsState.WITHDRAWN
    assert _errors(item_ids=[item.id])["items"].startswith(f"News item {item.id} is not")


def test_a_draft_has_a_unique_slug_sanitised_html_and_items_in_order(ctx):
    first, second = publish_news("First", at=TODAY), publish_news("Second", at=TODAY)
    content = _content(body="Hi <script>x()</script>", item_ids=[second.id, first.id])
    one = bulletins.create(content, actor=ANN, now=TODAY)
    two = bulletins.create(content, actor=ANN, now=TODAY)
    assert (one.slug, two.slug) == ("winter-funding-round", "winter-funding-round-2")
    assert "<script>" not in one.body_html
    assert [row.news_item.title for row in one.items] == ["Second", "First"]
    assert one.state is BulletinState.DRAFT
    assert one.created_by == ANN


def test_under_the_two_person_rule_the_submitter_cannot_approve(ctx):
    bulletin = bulletins.create(_content(), actor=ANN, now=TODAY)
    with pytest.raises(bulletins.ApprovalNeeded):
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=True)
    bulletins.submit(bulletin, actor=ANN, now=TODAY)
    with pytest.raises(bulletins.BulletinStateError, match="you submitted this bulletin"):
        bulletins.approve(bulletin, actor="staff:1 (api:4 cms)", now=TODAY)
    bulletins.approve(bulletin, actor=BOB, now=TODAY)
    assert (bulletin.state, bulletin.approved_by) == (BulletinState.APPROVED, BOB)
    run = bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=True)
    assert (bulletin.state, bulletin.sent_at, run.bulletin_id) == (
        BulletinState.SENT,
        TODAY,
        bulletin.id,
    )
    events = db.session.execute(
        select(AuditEvent.action, AuditEvent.actor)
        .where(AuditEvent.target_type == "Bulletin")
        .order_by(AuditEvent.id)
    ).all()
    assert events == [
        ("bulletin.create", ANN),
        ("bulletin.submit", ANN),
        ("bulletin.approve", BOB),
        ("bulletin.send", ANN),
    ]


def test_editing_an_approved_bulletin_sends_it_back_to_draft(ctx):
    bulletin = bulletins.create(_content(), actor=ANN, now=TODAY)
    bulletins.submit(bulletin, actor=ANN, now=TODAY)
    bulletins.approve(bulletin, actor=BOB, now=TODAY)
    bulletins.update(bulletin, _content(subject="Changed"), actor=ANN, now=TODAY)
    assert (bulletin.state, bulletin.approved_by, bulletin.submitted_by) == (
        BulletinState.DRAFT,
        None,
        None,
    )
    with pytest.raises(bulletins.ApprovalNeeded):
        bulletins.schedule(bulletin, TODAY + timedelta(days=1), actor=ANN, now=TODAY, approval=True)


def test_a_sent_bulletin_cannot_be_changed_or_sent_again(ctx):
    bulletin = bulletins.create(_content(), actor=ANN, now=TODAY)
    bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
    with pytest.raises(bulletins.BulletinStateError, match="sent"):
        bulletins.update(bulletin, _content(), actor=ANN, now=TODAY)
    with pytest.raises(bulletins.BulletinStateError, match="sent"):
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)


def test_a_scheduled_bulletin_goes_at_its_time_and_not_before(ctx):
    add_readers(3, follows={"funding": Frequency.WEEKLY}, now=TODAY)
    bulletin = bulletins.create(_content(), actor=ANN, now=TODAY)
    at = TODAY + timedelta(hours=2)
    with pytest.raises(InvalidInput, match="future"):
        bulletins.schedule(bulletin, TODAY, actor=ANN, now=TODAY, approval=False)
    bulletins.schedule(bulletin, at, actor=ANN, now=TODAY, approval=False)
    assert bulletins.send_due(now=at - timedelta(seconds=1)) == []
    assert bulletin.state is BulletinState.SCHEDULED
    runs = bulletins.send_due(now=at)
    assert [(run.bulletin_id, run.recipients) for run in runs] == [(bulletin.id, 3)]
    assert (bulletin.state, bulletin.sent_at) == (BulletinState.SENT, at)
    assert bulletins.send_due(now=at + timedelta(hours=1)) == []


def test_a_cancelled_bulletin_is_not_sent(ctx):
    bulletin = bulletins.create(_content(), actor=ANN, now=TODAY)
    at = TODAY + timedelta(hours=2)
    bulletins.schedule(bulletin, at, actor=ANN, now=TODAY, approval=False)
    bulletins.cancel(bulletin, actor=BOB, now=TODAY)
    assert bulletins.send_due(now=at) == []
    assert bulletin.state is BulletinState.CANCELLED
    assert db.session.scalar(select(SendRun.id)) is None


def test_the_audience_count_is_the_runs_audience(ctx):
    add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY)
    add_readers(1, follows={"events": Frequency.IMMEDIATE}, now=TODAY)
    add_readers(
        1, follows={"funding": Frequency.WEEKLY}, status=SubscriberStatus.UNSUBSCRIBED, now=TODAY
    )
    bulletin = bulletins.create(_content(), actor=ANN, now=TODAY)
    assert bulletins.audience_count(bulletin) == 2
    everyone = bulletins.create(_content(everyone=True, topic_slugs=[]), actor=ANN, now=TODAY)
    assert bulletins.audience_count(everyone) == 3


def test_the_send_bulletins_command_sends_what_is_due_by_the_clock(app, runner):
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY)
        bulletin = bulletins.create(_content(), actor=ANN, now=TODAY)
        soon = clock.now() + timedelta(hours=1)
        bulletins.schedule(bulletin, soon, actor=ANN, now=clock.now(), approval=False)
        db.session.commit()
        bulletin_id = bulletin.id
    assert runner.invoke(args=["send-bulletins"]).output == "Sent 0 scheduled bulletins.\n"
    with app.app_context():
        db.session.get(Bulletin, bulletin_id).send_at = clock.now() - timedelta(seconds=1)
        db.session.commit()
    assert runner.invoke(args=["send-bulletins"]).output == "Sent 1 scheduled bulletins.\n"
    with app.app_context():
        run = db.session.scalars(select(SendRun)).one()
        assert (run.bulletin_id, run.recipients) == (bulletin_id, 2)
        assert db.session.get(Bulletin, bulletin_id).state is BulletinState.SENT


def test_the_scheduler_looks_for_due_bulletins_every_half_minute(app):
    scheduler = BackgroundScheduler()
    jobs.add_jobs(scheduler, app)
    job = scheduler.get_job("send-due-bulletins")
    assert (job.func, job.args, job.max_instances, job.coalesce) == (
        jobs.send_due_bulletins,
        (app,),
        1,
        True,
    )
    assert job.trigger.interval == timedelta(seconds=30)
