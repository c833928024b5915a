"""Demo content for the effective practice library: a few case studies made up for the demo.

Every one is labelled "Synthetic example" in its title and says so in its summary; the towns,
people and figures are invented, and nothing is taken from any real report or practice bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta

from mailer.domain import practice_terms
from mailer.domain.directory.listing import csp_by_code
from mailer.domain.slugs import slugify
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from mailer.models import CaseStudyTag

LABEL = "Synthetic example: "
NOTICE = (
    "This is a made-up example for the demo: the place, the people and the figures are invented. "
)
# Where demo enquiries go: a reserved domain, so nothing leaves a demo by accident.
DEMO_SUBMITTER = "practice-demo@example.org"


@dataclass(frozen=True)
class DemoCaseStudy:
    title: str
    summary: str
    csp_code: str
    nation: str
    area: str
    rating: CaseStudyRating
    evaluated: bool
    themes: tuple[str, ...]
    crime_types: tuple[str, ...]
    started_on: date
    answers: dict[str, str] = field(default_factory=dict)
    partners: str = ""
    days_ago: int = 0


DEMO_CASE_STUDIES: tuple[DemoCaseStudy, ...] = (
    DemoCaseStudy(
        "Bus stop wardens after school in Northtown",
        "Paid wardens stood at six bus stops between 3pm and 5pm on school days. Reported "
        "robberies of young people at those stops fell from 31 to 12 in a year.",
        "E22000345",
        "england",
        "Northtown",
        CaseStudyRating.WORKED,
        True,
        ("youth-crime",),
        ("robbery", "theft-from-the-person"),
        date(2024, 9, 2),
        {
            "problem": "Young people were robbed of phones and bank cards at a cluster of bus "
            "stops near three secondary schools.",
            "what_was_done": "Six wardens in bright jackets, a radio link to the bus depot and "
            "a weekly meeting with the schools.",
            "evaluation_method": "Recorded crime at the six stops compared with eight similar "
            "stops without wardens, over twelve months.",
            "evaluation_findings": "Robberies fell by 61% at the stops with wardens and by 9% "
            "at the others. No displacement to nearby streets was found.",
            "cost": "About £96,000 for the year, mostly wages.",
            "lessons": "Start in September; recruit wardens the pupils already know.",
        },
        "Northtown Buses; three secondary schools",
        days_ago=3,
    ),
    DemoCaseStudy(
        "Late-night text alerts to venues in Aberllyn",
        "Door staff got text alerts about trouble nearby so they could close doors early. "
        "Violence outside venues did not fall, and staff stopped reading the texts.",
        "W14000003",
        "wales",
        "Aberllyn town centre",
        CaseStudyRating.DID_NOT_WORK,
        True,
        ("serious-violence", "drugs-and-alcohol"),
        ("violent-crime", "public-order"),
        date(2023, 5, 1),
        {
            "problem": "Fights spilled out of bars at closing time on Fridays and Saturdays.",
            "what_was_done": "A shared text service sent alerts from CCTV operators to door "
            "staff at fourteen venues.",
            "evaluation_findings": "Assaults outside venues were 48 in the six months before "
            "and 51 in the six months after. Door staff said the alerts came too late.",
            "lessons": "Test the alert speed before launch; a radio scheme may suit better.",
        },
        "Aberllyn Pubwatch",
        days_ago=10,
    ),
    DemoCaseStudy(
        "Brighter alleys: lighting and gating in Eastbury",
        "Twelve back alleys got new lights and resident-controlled gates. Burglaries from "
        "the houses backing onto them fell, but it is too early to be sure why.",
        "E22000056",
        "england",
        "Eastbury estate",
        CaseStudyRating.PROMISING,
        False,
        ("neighbourhood-crime",),
        ("burglary", "criminal-damage-arson"),
        date(2025, 1, 13),
        {
            "problem": "Burglars used unlit alleys to reach back doors.",
            "what_was_done": "LED lights and gates with keys held by residents.",
            "why_it_works": "Fewer unseen routes to back doors make burglary harder and riskier.",
            "barriers": "Getting every resident of an alley to agree took months.",
        },
        "Eastbury Housing Co-operative",
        days_ago=20,
    ),
    DemoCaseStudy(
        "Shop staff radio network in Southmoor Vale",
        "Twenty small shops shared a radio network to warn each other about shoplifters. "
        "It started in the spring; no one has measured the effect yet.",
        "E22000244",
        "england",
        "Southmoor Vale high street",
        CaseStudyRating.UNTESTED,
        False,
        ("neighbourhood-crime", "community-cohesion"),
        ("shoplifting",),
        date(2025, 4, 7),
        {
            "what_was_done": "Radios, a simple call-sign protocol and a monthly meeting with "
            "the neighbourhood police team.",
            "resources": "Twenty radios at £180 each, and one coordinator for two hours a week.",
        },
        days_ago=35,
    ),
    DemoCaseStudy(
        "Mentoring for young people at risk of exploitation in Glanafon",
        "Trained mentors met young people referred by schools every week for six months. "
        "Fewer were reported missing, and most stayed in education.",
        "W14000002",
        "wales",
        "Glanafon",
        CaseStudyRating.WORKED,
        True,
        ("exploitation", "youth-crime"),
        ("drugs",),
        date(2022, 10, 3),
        {
            "problem": "Young people went missing for days and came back with drugs and cash.",
            "what_was_done": "One mentor for every four young people; activities chosen by "
            "the young people.",
            "evaluation_method": "Missing episodes compared for 40 mentored young people and "
            "40 on the waiting list.",
            "evaluation_findings": "Missing episodes fell by half for the mentored group.",
        },
        "Glanafon Youth Trust",
        days_ago=50,
    ),
    DemoCaseStudy(
        "Hate crime reporting centres in Westmere libraries",
        "Five libraries became places to report hate crime with a trained member of staff. "
        "Reports rose, which the partnership reads as more trust rather than more crime.",
        "E22000221",
        "england",
        "Westmere",
        CaseStudyRating.PROMISING,
        True,
        ("hate-crime", "community-cohesion"),
        ("public-order", "violent-crime"),
        date(2024, 2, 5),
        {
            "problem": "Few people reported hate crime to the police directly.",
            "what_was_done": "Library staff trained to take reports and pass them on.",
            "evaluation_findings": "Reports rose from 40 to 66 a year; a survey found more "
            "people knew where to report.",
        },
        days_ago=70,
    ),
)


def seed_practice_demo(*, now: datetime) -> int:
    """Publish the demo case studies not already there (by slug); return how many were
    added. Flushes only."""
    added = 0
    for demo in DEMO_CASE_STUDIES:
        title = LABEL + demo.title
        slug = slugify(title)
        if db.session.query(CaseStudy.id).filter_by(slug=slug).first() is not None:
            continue
        db.session.add(_case_study(demo, title, slug, now - timedelta(days=demo.days_ago)))
        added += 1
    return added


def _case_study(demo: DemoCaseStudy, title: str, slug: str, at: datetime) -> CaseStudy:
    csp = csp_by_code(demo.csp_code)
    tags = [("theme", c) for c in demo.themes] + [("crime_type", c) for c in demo.crime_types]
    summary = NOTICE + demo.summary
    extra = (demo.partners, demo.area, csp.name if csp else "")
    return CaseStudy(
        slug=slug,
        state=CaseStudyState.PUBLISHED,
        title=title,
        summary=summary,
        csp_id=csp.id if csp else None,
        partners=demo.partners,
        nation=demo.nation,
        area=demo.area,
        rating=demo.rating,
        evaluated=demo.evaluated,
        started_on=demo.started_on,
        answers=dict(demo.answers),
        contact_role="Community safety officer",
        contact_consent=True,
        declaration=True,
        submitter_email=DEMO_SUBMITTER,
        search_text=practice_terms.search_text(title, summary, demo.answers, tags, *extra),
        submitted_at=at,
        published_at=at,
        created_at=at,
        updated_at=at,
        tags=[CaseStudyTag(vocabulary=v, code=c) for v, c in tags],
    )
