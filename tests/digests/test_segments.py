"""Segments: the count staff see before a bulletin or an urgent item goes out is the number of
emails the worker then sends, and only those in the segment get one."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from mailer.domain import bulletins
from mailer.domain import news
from mailer.domain import periods
from mailer.domain import practitioners
from mailer.domain import segments
from mailer.domain.audience import item_reach
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests import TODAY
from tests.digests.conftest import make_due
from tests.factories import add_readers
from tests.factories import load_directory
from tests.helpers import send_queued

ANN = "staff:1 ann@example.gov.uk"
CARDIFF, SWANSEA, CONWY, BARNET = "W14000015", "W14000011", "W14000003", "E22000187"
SOUTH_WALES = "W15000003"


def _say(ids, organisation_type, *codes):
    profile = practitioners.parse_profile(organisation_type, codes)
    for subscriber_id in ids:
        practitioners.apply_profile(db.session.get_one(Subscriber, subscriber_id), profile)


def _practitioners(app):
    """Funding readers at every frequency: in Cardiff (police), Swansea (council), Conwy
    (police), Barnet (police), Barnet and Cardiff (health), and some who said nothing; one who
    left; readers of another topic in Cardiff. Returns the addresses by group."""
    with app.app_context():
        load_directory(now=TODAY)
        groups = {
            "cardiff": add_readers(
                3, follows={"funding": Frequency.IMMEDIATE}, now=TODAY, prefix="cdf"
            ),
            "swansea": add_readers(
                2, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="swa"
            ),
            "conwy": add_readers(1, follows={"funding": Frequency.WEEKLY}, now=TODAY, prefix="cwy"),
            "barnet": add_readers(4, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="bar"),
            "both": add_readers(
                1, follows={"funding": Frequency.IMMEDIATE}, now=TODAY, prefix="two"
            ),
            "unsaid": add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="non"),
            "left": add_readers(
                1,
                follows={"funding": Frequency.DAILY},
                status=SubscriberStatus.UNSUBSCRIBED,
                now=TODAY,
                prefix="lft",
            ),
            "events": add_readers(2, follows={"events": Frequency.DAILY}, now=TODAY, prefix="evt"),
        }
        _say(groups["cardiff"], "police", CARDIFF)
        _say(groups["swansea"], "council", SWANSEA)
        _say(groups["conwy"], "police", CONWY)
        _say(groups["barnet"], "police", BARNET)
        _say(groups["both"], "health", BARNET, CARDIFF)
        _say(groups["left"], "police", CARDIFF)
        _say(groups["events"], "police", CARDIFF)
        db.session.commit()
        return {
            name: {db.session.get_one(Subscriber, i).email for i in ids}
            for name, ids in groups.items()
        }


def _send_bulletin(app, smtpd, segment, *, topics=("funding",)):
    with app.app_context():
        content = bulletins.validate(
            subject="Winter bulletin",
            body="Dear partners,",
            everyone=not topics,
            topic_slugs=list(topics),
            item_ids=[],
            public=True,
            segment=segment,
        )
        bulletin = bulletins.create(content, actor=ANN, now=TODAY)
        shown = bulletins.audience_count(bulletin)
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    send_queued(app, now=TODAY)
    received = Counter(message.rcpt_tos[0] for message in smtpd.drain())
    assert set(received.values()) <= {1}
    return shown, set(received)


def test_a_bulletin_only_to_wales_reaches_exactly_the_welsh_area_readers(app, smtpd):
    people = _practitioners(app)
    shown, received = _send_bulletin(app, smtpd, {"nations": ["wales"]})
    welsh = people["cardiff"] | people["swansea"] | people["conwy"] | people["both"]
    assert shown == len(received) == 7
    assert received == welsh


def test_dimensions_combine_with_and_and_choices_within_one_with_or(app, smtpd):
    people = _practitioners(app)
    segment = {"pfas": [SOUTH_WALES], "organisation_types": ["police", "health"]}
    shown, received = _send_bulletin(app, smtpd, segment)
    assert shown == len(received) == 4
    assert received == people["cardiff"] | people["both"]


def test_a_segment_to_everyone_leaves_out_those_who_gave_no_area(app, smtpd):
    people = _practitioners(app)
    shown, received = _send_bulletin(app, smtpd, {"csps": [BARNET, CONWY]}, topics=())
    assert shown == len(received) == 6
    assert received == people["barnet"] | people["both"] | people["conwy"]
    assert not received & people["unsaid"]


def test_an_organisation_segment_needs_no_area(app, smtpd):
    people = _practitioners(app)
    shown, received = _send_bulletin(app, smtpd, {"organisation_types": ["council"]})
    assert shown == len(received) == 2
    assert received == people["swansea"]


def test_an_urgent_item_with_a_segment_reaches_its_readers_there_at_once_and_as_counted(app, smtpd):
    people = _practitioners(app)
    published = TODAY + timedelta(hours=1)
    with app.app_context():
        draft = news.validate_draft(
            title="Flooding in South Wales",
            summary="Roads closed.",
            body="",
            topic_slugs=["funding"],
        )
        item = news.create_item(draft, actor="test", now=TODAY)
        errors: dict[str, str] = {}
        item.segment = segments.parse(errors, {"pfas": [SOUTH_WALES]}).to_json()
        assert not errors
        reach = item_reach(
            [t.id for t in item.topics],
            urgent=True,
            published_at=published,
            schedule=periods.Schedule.from_config(app.config),
            segment=segments.from_stored(item.segment),
        )
        urgency = news.validate_urgency(True, "Roads are closed today")
        news.publish_item(item, actor="editor@example.gov.uk", now=published, urgency=urgency)
        db.session.commit()
    make_due(app, published + timedelta(minutes=1), frequencies=(Frequency.IMMEDIATE,))
    send_queued(app, now=published + timedelta(minutes=1))
    received = {message.rcpt_tos[0] for message in smtpd.drain()}
    assert reach.at_once == len(received) == 6
    assert received == people["cardiff"] | people["swansea"] | people["both"]


def test_a_segment_does_not_narrow_an_item_that_is_not_urgent(app, smtpd):
    people = _practitioners(app)
    with app.app_context():
        draft = news.validate_draft(
            title="Funding in Wales", summary="Bids open.", body="", topic_slugs=["funding"]
        )
        item = news.create_item(draft, actor="test", now=TODAY)
        item.segment = {"nations": ["wales"]}
        news.publish_item(item, actor="editor@example.gov.uk", now=TODAY)
        db.session.commit()
        ids = db.session.scalars(select(Subscriber.id)).all()
        assert ids
    make_due(app, TODAY + timedelta(minutes=1), frequencies=(Frequency.IMMEDIATE,))
    send_queued(app, now=TODAY + timedelta(minutes=1))
    received = {message.rcpt_tos[0] for message in smtpd.drain()}
    assert received == people["cardiff"] | people["both"]
