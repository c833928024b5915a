"""The demo content: the nine news items of the CSP page, loaded once by `mailer seed-demo`."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain.demo import seed_demo
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import Topic

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# The "Latest on this topic" list of the CSP page, top to bottom.
CSP_PAGE = [
    (
        "Providing employment and training opportunities for offenders - Free Event for Partners",
        date(2013, 3, 6),
    ),
    ("IOM and social enterprise", date(2013, 2, 11)),
    ("Domestic Homicide Review - Funding available for conducting reviews", date(2013, 1, 8)),
    ("Tilley awards 2012 - winners announced", date(2012, 12, 7)),
    ("Alcohol consultation launched", date(2012, 11, 28)),
    ("Domestic Homicide Review Funding", date(2012, 11, 28)),
    ("Female Genital Mutilation Funding", date(2012, 11, 28)),
    ("New Page on the Home Office website - other funding streams", date(2012, 10, 19)),
    ("New Page on the Home Office website - Other Sources of Good Practice", date(2012, 10, 17)),
]


def _items() -> list[NewsItem]:
    statement = select(NewsItem).order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
    return list(db.session.scalars(statement))


def _london_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo("Europe/London")).date()


def test_seed_demo_publishes_the_nine_items_of_the_csp_page_at_their_dates(app):
    with app.app_context():
        assert seed_demo(actor="cli", now=NOW) == 9
        db.session.commit()
        items = _items()
        assert [(i.title, _london_day(i.published_at)) for i in items] == CSP_PAGE
        assert {i.state for i in items} == {NewsState.PUBLISHED}
        assert all(i.created_at == i.updated_at == i.published_at for i in items)


def test_seed_demo_keeps_the_summaries_as_the_page_gave_them(app):
    with app.app_context():
        seed_demo(actor="cli", now=NOW)
        summaries = {i.title: i.summary for i in _items()}
    first = summaries[CSP_PAGE[0][0]]
    assert first.startswith("Clinks and Social Firms UK have organised an event on 20 March")
    assert first.endswith("invited to attend and share their experience and learning.")
    assert summaries["IOM and social enterprise"].startswith("The Home Office, in partnership")
    assert "£150,000" in summaries["Domestic Homicide Review Funding"]
    assert all("  " not in summary and summary == summary.strip() for summary in summaries.values())


def test_seed_demo_gives_every_item_sensible_topics(app):
    with app.app_context():
        seed_demo(actor="cli", now=NOW)
        topics = {i.title: [t.slug for t in i.topics] for i in _items()}
    assert topics["Alcohol consultation launched"] == [
        "consultations",
        "antisocial-behaviour",
        "alcohol-and-drugs",
    ]
    assert topics["Domestic Homicide Review Funding"] == ["funding", "domestic-homicide-reviews"]
    assert topics["Female Genital Mutilation Funding"] == ["funding"]
    assert all(topics.values())


def test_seed_demo_twice_adds_nothing_the_second_time(app):
    with app.app_context():
        assert seed_demo(actor="cli", now=NOW) == 9
        db.session.commit()
        assert seed_demo(actor="cli", now=NOW) == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(NewsItem)) == 9


def test_seed_demo_creates_the_topics_it_needs(app):
    with app.app_context():
        db.session.execute(Topic.__table__.delete())
        db.session.commit()
        assert seed_demo(actor="cli", now=NOW) == 9
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Topic)) == 9


def test_seed_demo_command_reports_what_it_added_and_audits_it_as_cli(app, runner):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert (first.exit_code, first.output) == (0, "Added 9 news items.\n")
    assert (second.exit_code, second.output) == (0, "Added 0 news items.\n")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
    assert {e.actor for e in events} == {"cli"}
    assert sorted(e.action for e in events) == ["created"] * 9 + ["published"] * 9
    # The log says when the rows were written, not the historical dates the items carry.
    assert min(e.at for e in events) > datetime(2013, 3, 7, tzinfo=UTC)


def test_seeded_items_are_listed_in_the_order_of_the_csp_page(app, client):
    with app.app_context():
        seed_demo(actor="cli", now=NOW)
        db.session.commit()
    html = client.get("/news").get_data(as_text=True)
    positions = [html.index(f">{title}</a>") for title, _ in CSP_PAGE]
    assert positions == sorted(positions)
    assert "Published <time" in html
    assert ">28 November 2012</time>" in html
