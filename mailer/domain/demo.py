"""Demo content: the nine news items of the Home Office Community Safety Partnerships page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

from mailer.domain import news
from mailer.domain.slugs import slugify
from mailer.domain.topics import seed_topics


@dataclass(frozen=True)
class DemoItem:
    """One item as the CSP page gave it, with the topics it belongs to."""

    title: str
    summary: str
    published: date
    topics: tuple[str, ...]


# Newest first, as the page lists them. Titles, summaries and dates are the page's own words.
DEMO_ITEMS: tuple[DemoItem, ...] = (
    DemoItem(
        "Providing employment and training opportunities for offenders - Free Event for Partners",
        "Clinks and Social Firms UK have organised an event on 20 March in London which is free "
        "to partners, to look at how we can work together to build sustainable social "
        "enterprises supporting offenders into training and employment. Voluntary, Community "
        "and Social Enterprises (VCSE) organisations, statutory partners (national and local), "
        "private sector and local businesses are invited to attend and share their experience "
        "and learning.",
        date(2013, 3, 6),
        ("events", "reducing-reoffending"),
    ),
    DemoItem(
        "IOM and social enterprise",
        "The Home Office, in partnership with Clinks and Social Firms UK is undertaking a short "
        "piece of work to explore the role of social enterprises and community interest "
        "companies in enabling offenders (both adult and young offenders) in accessing training "
        "and employment opportunities. The aim is to capture and share some of the current key "
        "learning and effective practice through the development of a set of effective practice "
        "resources. Further information is available on Clinks\u2019 website.",
        date(2013, 2, 11),
        ("reducing-reoffending", "effective-practice"),
    ),
    DemoItem(
        "Domestic Homicide Review - Funding available for conducting reviews",
        "The Home Office have announced a fund of up to \u00a3150,000 for 2012-2013 to support "
        "Community Safety Partnerships in their duty to hold Domestic Homicide Reviews. CSPs "
        "who are commencing more than one review in the current financial year, and who meet "
        "the criteria will be able to apply for the fund.",
        date(2013, 1, 8),
        ("funding", "domestic-homicide-reviews"),
    ),
    DemoItem(
        "Tilley awards 2012 - winners announced",
        "Congratulations to the 'tackling gang and youth violence' team in Enfield for being the "
        "overall winner of the Tilley awards 2012 and also the winner of the public vote.",
        date(2012, 12, 7),
        ("effective-practice", "general-news"),
    ),
    DemoItem(
        "Alcohol consultation launched",
        "We have launched the government's alcohol strategy consultation seeking views on a "
        "number of measures designed to reduce harmful drinking and therefore cut crime and "
        "antisocial behaviour, save lives and reduce harmful alcohol consumption. The "
        "consultation will close on 6 February 2013.",
        date(2012, 11, 28),
        ("consultations", "antisocial-behaviour", "alcohol-and-drugs"),
    ),
    DemoItem(
        "Domestic Homicide Review Funding",
        "The Home Office has allocated up to \u00a3150,000 to support CSPs in their duty to hold "
        "domestic homicide reviews. CSPs who are commencing more than one review in the "
        "financial year 2012-2013, and who meet the criteria are invited to apply for the fund.",
        date(2012, 11, 28),
        ("funding", "domestic-homicide-reviews"),
    ),
    DemoItem(
        "Female Genital Mutilation Funding",
        "The Home Office has launched the Female Genital Mutilation (FGM) Fund for 2012 which is "
        "targeted at organisations who can reach and help communities involved in the practice "
        "to abandon it. The funding should be used on projects that strengthen the voice of "
        "communities to speak out against FGM, strengthen community based prevention work or "
        "raise awareness about socio-cultural, ethnic-legal, sexual health and clinical "
        "implications.",
        date(2012, 11, 28),
        ("funding",),
    ),
    DemoItem(
        "New Page on the Home Office website - other funding streams",
        "A new page has been added under the Community Safety Partnership area of the Home "
        "Office website featuring details of non-Home Office funding sources which "
        "practitioners may find useful when resourcing case study projects within crime and "
        "community safety.",
        date(2012, 10, 19),
        ("funding", "general-news"),
    ),
    DemoItem(
        "New Page on the Home Office website - Other Sources of Good Practice",
        "Check out the new page under the community safety partnership area of the Home Office "
        "website. The page features details of other sources of good practice in crime and "
        "commuity safety, that practitioners may find useful when researching potential "
        "projects.",
        date(2012, 10, 17),
        ("effective-practice", "general-news"),
    ),
)

# The page gives dates only; a morning time in London keeps each on its day in any display.
PUBLISHED_AT = time(9, 0)
ZONE = ZoneInfo("Europe/London")


def published_at(item: DemoItem) -> datetime:
    """The moment an item counts as published: its day at 9am London time."""
    return datetime.combine(item.published, PUBLISHED_AT, tzinfo=ZONE)


def seed_demo(*, actor: str, now: datetime) -> int:
    """Publish the demo items not already there (by slug); return how many were added.

    Also creates any missing demo topic, since every item needs its topics. Flushes only.
    """
    seed_topics()
    added = 0
    # Oldest first, so that items of the same day keep the page's order (newest id first).
    for demo in reversed(DEMO_ITEMS):
        if news.item_by_slug(slugify(demo.title)) is not None:
            continue
        _publish_backdated(demo, actor=actor, now=now)
        added += 1
    return added


def _publish_backdated(demo: DemoItem, *, actor: str, now: datetime) -> None:
    """Create and publish one item through the usual domain functions, then date it historically.

    The audit log keeps the real time of the seeding; the item itself carries the date the CSP
    page gave, which is what the site, the feeds and the archive order show.
    """
    draft = news.validate_draft(
        title=demo.title, summary=demo.summary, body="", topic_slugs=list(demo.topics)
    )
    item = news.create_item(draft, actor=actor, now=now)
    news.publish_item(item, actor=actor, now=now)
    item.created_at = item.updated_at = item.published_at = published_at(demo)
