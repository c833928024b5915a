"""Topics staff look after: adding, editing, ordering and retiring them, and the "topic ended"
email that retiring can send."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import topics
from mailer.domain.topic_reports import all_summaries
from mailer.domain.topic_retirement import retire_topic
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import MessageKind
from mailer.models import NewsState
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic
from tests import TODAY
from tests.digests.conftest import make_digest
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import link
from tests.helpers import send_queued

ACTOR = "staff:1 admin@example.gov.uk"


def _fields(name: str = "Crime types", **overrides: str) -> topics.TopicFields:
    values = {"description": "Burglary, fraud and more", "slug": "", "heading": "", **overrides}
    return topics.validate_topic(name=name, **values)


def _topic(slug: str) -> Topic:
    found = topics.topic_by_slug(slug)
    assert found is not None
    return found


def _follow(subscriber_id: int, slug: str, frequency: Frequency) -> None:
    db.session.add(
        Subscription(
            subscriber_id=subscriber_id,
            topic_id=_topic(slug).id,
            frequency=frequency,
            created_at=TODAY,
        )
    )
    db.session.flush()


def _follows(subscriber_id: int) -> dict[str, Frequency]:
    rows = db.session.execute(
        select(Topic.slug, Subscription.frequency)
        .join(Topic, Topic.id == Subscription.topic_id)
        .where(Subscription.subscriber_id == subscriber_id)
    )
    return {row.slug: row.frequency for row in rows}


def test_a_new_topic_goes_last_with_a_slug_made_from_its_name(app):
    with app.app_context():
        topic = topics.create_topic(
            _fields("Crime types: burglary & fraud", heading="Crime types"), actor=ACTOR, now=TODAY
        )
        db.session.commit()
        assert topic.slug == "crime-types-burglary-fraud"
        assert topic.heading == "Crime types"
        assert [t.slug for t in topics.list_topics()][-1] == topic.slug
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.actor, event.action, event.target_type) == (ACTOR, "created", "Topic")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter a name"),
        ({"name": "x" * 121}, "name", "Name must be 120 characters or fewer"),
        ({"name": "Events\r\nBcc: all@example.com"}, "name", "Name must be on one line"),
        ({"description": "d" * 301}, "description", "Description must be 300 characters or fewer"),
        ({"heading": "h" * 81}, "heading", "Heading must be 80 characters or fewer"),
        ({"slug": "Crime Types"}, "slug", "Slug must use only lower-case letters"),
        ({"slug": "s" * 61}, "slug", "Slug must be 60 characters or fewer"),
        ({"name": "EVENTS", "slug": "new"}, "name", "There is already a topic called EVENTS"),
        ({"slug": "funding"}, "slug", "There is already a topic with the slug funding"),
        ({"name": 12}, "name", "Name must be text"),
    ],
)
def test_bad_fields_get_one_clear_message_each(app, values, field, message):
    with app.app_context():
        arguments = {"name": "Crime types", "description": "", "slug": "", "heading": ""}
        with pytest.raises(FieldErrors) as raised:
            topics.validate_topic(**{**arguments, **values})
        assert list(raised.value.errors) == [field]
        assert raised.value.errors[field].startswith(message)


def test_a_name_of_only_symbols_gets_a_plain_slug(app):
    with app.app_context():
        fields = topics.validate_topic(name="£££", description="", slug="", heading="")
        assert fields.slug == "topic"


def test_a_taken_name_or_slug_alone_is_told_apart_from_bad_fields(app):
    with app.app_context():
        with pytest.raises(topics.TopicTaken) as taken:
            topics.validate_topic(name="Events", description="", slug="", heading="")
        assert set(taken.value.errors) == {"name", "slug"}
        with pytest.raises(FieldErrors) as both:
            topics.validate_topic(name="Events", description="\n", slug="", heading="")
        assert not isinstance(both.value, topics.TopicTaken)
        assert set(both.value.errors) == {"name", "slug", "description"}


def test_the_slug_changes_only_while_nobody_has_used_the_topic(app):
    with app.app_context():
        topic = topics.create_topic(_fields(), actor=ACTOR, now=TODAY)
        renamed = topics.validate_topic(
            name="Crime", description="", slug="crime", heading="", current=topic
        )
        topics.update_topic(topic, renamed, actor=ACTOR, now=TODAY)
        assert topic.slug == "crime"
        subscriber = make_subscriber(now=TODAY)
        _follow(subscriber.id, "crime", Frequency.DAILY)
        again = topics.validate_topic(
            name="Crime", description="", slug="crimes", heading="", current=topic
        )
        with pytest.raises(Conflict, match="cannot change"):
            topics.update_topic(topic, again, actor=ACTOR, now=TODAY)
        # Other fields still change, and an empty slug keeps the one it has.
        kept = topics.validate_topic(
            name="Crimes", description="New", slug="", heading="Crime types", current=topic
        )
        topics.update_topic(topic, kept, actor=ACTOR, now=TODAY)
        assert (topic.slug, topic.name, topic.heading) == ("crime", "Crimes", "Crime types")


def test_a_topic_with_news_filed_under_it_keeps_its_slug(app):
    with app.app_context():
        publish_news("Grants", topics=("funding",), at=TODAY)
        topic = _topic("funding")
        changed = topics.validate_topic(
            name="Funding", description="", slug="grants", heading="", current=topic
        )
        with pytest.raises(Conflict):
            topics.update_topic(topic, changed, actor=ACTOR, now=TODAY)


def test_moving_up_and_down_stays_under_the_heading(app):
    with app.app_context():
        for slug in ("funding", "events"):
            topic = _topic(slug)
            fields = topics.validate_topic(
                name=topic.name,
                description="",
                slug="",
                heading="Funding and events",
                current=topic,
            )
            topics.update_topic(topic, fields, actor=ACTOR, now=TODAY)
        assert topics.move_topic(_topic("events"), up=True, actor=ACTOR, now=TODAY)
        order = [t.slug for t in topics.list_topics()]
        assert order[:3] == ["events", "funding", "consultations"]
        # Events is first of its heading now; funding is last of it.
        assert not topics.move_topic(_topic("events"), up=True, actor=ACTOR, now=TODAY)
        assert not topics.move_topic(_topic("funding"), up=False, actor=ACTOR, now=TODAY)
        topics.place_topic(_topic("general-news"), 0, actor=ACTOR, now=TODAY)
        assert topics.list_topics()[0].slug == "general-news"


def test_retiring_with_a_move_merges_subscriptions_keeping_frequencies(app):
    with app.app_context():
        only_events = make_subscriber(email="only@example.com", now=TODAY)
        _follow(only_events.id, "events", Frequency.WEEKLY)
        both = make_subscriber(email="both@example.com", now=TODAY)
        _follow(both.id, "events", Frequency.IMMEDIATE)
        _follow(both.id, "funding", Frequency.DAILY)
        later = TODAY + timedelta(days=1)

        done = retire_topic(
            _topic("events"), move_to=_topic("funding"), tell=False, actor=ACTOR, now=later
        )
        db.session.commit()

        assert (done.moved, done.already_followed, done.told) == (2, 1, 0)
        assert _follows(only_events.id) == {"funding": Frequency.WEEKLY}
        assert _follows(both.id) == {"funding": Frequency.DAILY}
        events = _topic("events")
        assert events.retired_at == later
        assert events.successor_id == _topic("funding").id
        consents = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert [(c.subscriber_id, c.action) for c in consents] == [
            (only_events.id, ConsentAction.CHANGED),
            (both.id, ConsentAction.CHANGED),
        ]
        assert consents[0].detail["note"] == (
            "Moved by staff from topic Events to Funding, because Events was retired"
        )
        assert "events" not in [t.slug for t in topics.list_topics()]
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retired")).one()
        assert audit.detail == {"move_to": "funding", "tell": False, "subscribers": 2}


def test_retiring_without_a_move_leaves_subscriptions_inert(app):
    with app.app_context():
        reader = make_subscriber(now=TODAY)
        _follow(reader.id, "events", Frequency.DAILY)
        retire_topic(_topic("events"), move_to=None, tell=False, actor=ACTOR, now=TODAY)
        assert _follows(reader.id) == {"events": Frequency.DAILY}
        assert _topic("events").successor_id is None


def test_retiring_twice_or_to_a_bad_topic_is_refused(app):
    with app.app_context():
        events = _topic("events")
        with pytest.raises(FieldErrors) as itself:
            retire_topic(events, move_to=events, tell=False, actor=ACTOR, now=TODAY)
        assert list(itself.value.errors) == ["move_to"]
        retire_topic(_topic("funding"), move_to=None, tell=False, actor=ACTOR, now=TODAY)
        with pytest.raises(FieldErrors, match="retired too"):
            retire_topic(events, move_to=_topic("funding"), tell=False, actor=ACTOR, now=TODAY)
        with pytest.raises(Conflict, match="already been retired"):
            retire_topic(_topic("funding"), move_to=None, tell=False, actor=ACTOR, now=TODAY)


def test_the_counts_are_of_active_subscribers_by_frequency(app):
    with app.app_context():
        add_readers(3, follows={"events": Frequency.DAILY}, now=TODAY)
        add_readers(1, follows={"events": Frequency.WEEKLY}, now=TODAY, prefix="w")
        add_readers(
            2,
            follows={"events": Frequency.IMMEDIATE},
            now=TODAY,
            prefix="gone",
            status=SubscriberStatus.UNSUBSCRIBED,
        )
        publish_news("Conference", topics=("events",), at=TODAY)
        summary = {s.topic.slug: s for s in all_summaries()}["events"]
        assert summary.by_frequency == {
            Frequency.IMMEDIATE: 0,
            Frequency.DAILY: 3,
            Frequency.WEEKLY: 1,
        }
        assert summary.subscribers == 4
        assert summary.last_item_at == TODAY


def test_topic_ended_email_reaches_each_active_subscriber_once(app, smtpd):
    later = TODAY + timedelta(days=2)
    with app.app_context():
        ids = add_readers(2, follows={"events": Frequency.DAILY}, now=TODAY)
        both = add_readers(
            1,
            follows={"events": Frequency.WEEKLY, "funding": Frequency.IMMEDIATE},
            now=TODAY,
            prefix="both",
        )
        add_readers(
            1,
            follows={"events": Frequency.DAILY},
            now=TODAY,
            prefix="pending",
            status=SubscriberStatus.PENDING,
        )
        done = retire_topic(
            _topic("events"), move_to=_topic("funding"), tell=True, actor=ACTOR, now=later
        )
        db.session.commit()
        assert done.told == 3
        assert _follows(both[0]) == {"funding": Frequency.IMMEDIATE}
        assert _follows(ids[0]) == {"funding": Frequency.DAILY}
        kinds = db.session.scalars(select(Delivery.kind)).all()
        assert kinds == [MessageKind.TOPIC_ENDED] * 3

    assert send_queued(app, now=later).sent == 3
    received = smtpd.drain()
    assert len(received) == 3
    assert len({mail.rcpt_tos[0] for mail in received}) == 3
    for mail in received:
        assert mail.message["Subject"] == "Events news has ended"
        assert "You now get news about Funding instead." in mail.text
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f"{app.config['BASE_URL']}/topics/events" in mail.text
        link(mail.text, "/manage/")
        assert link(mail.text, "/unsubscribe/") in mail.message["List-Unsubscribe"]
    assert send_queued(app, now=later + timedelta(hours=1)).sent == 0


def test_topic_ended_email_without_a_move_says_no_more_news(app, smtpd):
    with app.app_context():
        reader = make_subscriber(now=TODAY)
        _follow(reader.id, "events", Frequency.DAILY)
        _follow(reader.id, "funding", Frequency.DAILY)
        retire_topic(_topic("events"), move_to=None, tell=True, actor=ACTOR, now=TODAY)
        db.session.commit()
    send_queued(app, now=TODAY)
    mail = smtpd.get()
    assert "You will not get any more emails about Events." in mail.text
    assert "* Funding" in mail.text
    assert "* Events" not in mail.text


def test_two_topics_retired_at_one_moment_make_one_email(app, smtpd):
    with app.app_context():
        reader = make_subscriber(now=TODAY)
        _follow(reader.id, "events", Frequency.DAILY)
        _follow(reader.id, "funding", Frequency.DAILY)
        for slug in ("events", "funding"):
            retire_topic(_topic(slug), move_to=None, tell=True, actor=ACTOR, now=TODAY)
        db.session.commit()
    assert send_queued(app, now=TODAY).sent == 1
    mail = smtpd.get()
    assert "Funding has ended" in mail.text
    assert "Events has ended" in mail.text


def test_a_topic_with_draft_or_scheduled_news_waits_to_be_retired(app):
    with app.app_context():
        item = publish_news("Conference next year", topics=("events",), at=TODAY)
        item.state = NewsState.SCHEDULED
        with pytest.raises(Conflict, match="1 draft or scheduled news item is filed under Events"):
            retire_topic(_topic("events"), move_to=None, tell=False, actor=ACTOR, now=TODAY)
        item.state = NewsState.PUBLISHED
        retire_topic(_topic("events"), move_to=None, tell=False, actor=ACTOR, now=TODAY)
        assert _topic("events").retired_at == TODAY


def test_retiring_a_large_topic_moves_and_tells_everyone_once(app):
    with app.app_context():
        add_readers(2500, follows={"events": Frequency.DAILY}, now=TODAY)
        add_readers(
            300,
            follows={"events": Frequency.WEEKLY, "funding": Frequency.IMMEDIATE},
            now=TODAY,
            prefix="both",
        )
        done = retire_topic(
            _topic("events"), move_to=_topic("funding"), tell=True, actor=ACTOR, now=TODAY
        )
        assert (done.moved, done.already_followed, done.told) == (2800, 300, 2800)
        counts = {s.topic.slug: s.by_frequency for s in all_summaries()}
        assert counts["funding"] == {
            Frequency.IMMEDIATE: 300,
            Frequency.DAILY: 2500,
            Frequency.WEEKLY: 0,
        }
        assert sum(counts["events"].values()) == 0
        pairs = db.session.execute(select(Subscription.subscriber_id, Subscription.topic_id)).all()
        assert len(pairs) == len(set(pairs)) == 2800
        recipients = db.session.scalars(select(Delivery.subscriber_id)).all()
        assert len(recipients) == len(set(recipients)) == 2800


def test_a_digest_names_only_the_current_topics_a_reader_follows(app, smtpd):
    end = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    with app.app_context():
        reader = make_subscriber(now=end - timedelta(days=2))
        _follow(reader.id, "events", Frequency.DAILY)
        _follow(reader.id, "funding", Frequency.DAILY)
        publish_news("Conference", topics=("events",), at=end - timedelta(hours=3))
        retire_topic(
            _topic("events"), move_to=None, tell=False, actor=ACTOR, now=end - timedelta(hours=2)
        )
        publish_news("Grants", topics=("funding",), at=end - timedelta(hours=1))
        db.session.commit()
    make_digest(app, now=end + timedelta(minutes=1))
    assert send_queued(app, now=end + timedelta(minutes=1)).sent == 1
    text = smtpd.get().text
    assert "subscribed to a daily email about: Funding." in text
