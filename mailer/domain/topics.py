"""The topics people subscribe to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Topic

# The subjects of the Community Safety Partnerships news, in the order the form lists them.
DEMO_TOPICS: tuple[tuple[str, str, str], ...] = (
    ("funding", "Funding", "Funding rounds and grants open to partnerships"),
    ("events", "Events", "Conferences, workshops and free events for partners"),
    ("consultations", "Consultations", "Government consultations seeking partners' views"),
    (
        "domestic-homicide-reviews",
        "Domestic homicide reviews",
        "Guidance and funding for domestic homicide reviews",
    ),
    (
        "reducing-reoffending",
        "Reducing reoffending",
        "Training, employment and offender management",
    ),
    ("antisocial-behaviour", "Antisocial behaviour", "Tackling antisocial behaviour locally"),
    ("alcohol-and-drugs", "Alcohol and drugs", "Alcohol and drug misuse strategy and practice"),
    ("effective-practice", "Effective practice", "Case studies and sources of good practice"),
    ("general-news", "General news", "Other news for community safety practitioners"),
)


def list_topics() -> Sequence[Topic]:
    """Return every topic in display order."""
    return db.session.scalars(select(Topic).order_by(Topic.position, Topic.id)).all()


def seed_topics() -> int:
    """Create the demo topics that do not exist yet; return how many were added."""
    existing = set(db.session.scalars(select(Topic.slug)))
    added = 0
    for position, (slug, name, description) in enumerate(DEMO_TOPICS):
        if slug not in existing:
            db.session.add(Topic(slug=slug, name=name, description=description, position=position))
            added += 1
    db.session.flush()
    return added
