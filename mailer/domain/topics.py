"""The topics people subscribe to: the list, adding, editing and ordering them.

Functions flush; the caller owns the transaction. Retiring a topic is in topic_retirement.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mailer.domain import audit
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import Subscription
from mailer.models import Topic
from mailer.models import news_item_topics

# The column lengths of Topic.
MAX_NAME = 120
MAX_DESCRIPTION = 300
MAX_SLUG = 60
MAX_HEADING = 80
SLUG_PATTERN = re.compile(r"[a-z0-9-]+")
# Control characters and line breaks, the two non-characters XML cannot carry, and the lone
# surrogates JSON escapes can make, which no database stores.
NOT_TEXT = re.compile("[\x00-\x1f\x7f\ufffe\uffff\ud800-\udfff]")

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
# Their Welsh (Cymraeg) names and descriptions, for the Welsh pages.
DEMO_TOPICS_CY = {
    "funding": ("Cyllid", "Cylchoedd cyllido a grantiau sydd ar agor i bartneriaethau"),
    "events": ("Digwyddiadau", "Cynadleddau, gweithdai a digwyddiadau am ddim i bartneriaid"),
    "consultations": ("Ymgynghoriadau", "Ymgynghoriadau'r llywodraeth sy'n gofyn barn partneriaid"),
    "domestic-homicide-reviews": (
        "Adolygiadau o ddynladdiad domestig",
        "Canllawiau a chyllid ar gyfer adolygiadau o ddynladdiad domestig",
    ),
    "reducing-reoffending": (
        "Lleihau aildroseddu",
        "Hyfforddiant, cyflogaeth a rheoli troseddwyr",
    ),
    "antisocial-behaviour": (
        "Ymddygiad gwrthgymdeithasol",
        "Mynd i'r afael ag ymddygiad gwrthgymdeithasol yn lleol",
    ),
    "alcohol-and-drugs": (
        "Alcohol a chyffuriau",
        "Strategaeth ac ymarfer camddefnyddio alcohol a chyffuriau",
    ),
    "effective-practice": ("Ymarfer effeithiol", "Astudiaethau achos a ffynonellau ymarfer da"),
    "general-news": ("Newyddion cyffredinol", "Newyddion eraill i ymarferwyr diogelwch cymunedol"),
}


@dataclass(frozen=True)
class TopicFields:
    """The checked fields of a topic."""

    name: str
    description: str
    slug: str
    heading: str


def list_topics(*, include_retired: bool = False) -> Sequence[Topic]:
    """Return the current topics in display order, or every topic with `include_retired`."""
    statement = select(Topic).order_by(Topic.position, Topic.id)
    if not include_retired:
        statement = statement.where(Topic.retired_at.is_(None))
    return db.session.scalars(statement).all()


def topic_by_slug(slug: str, *, lock: bool = False) -> Topic | None:
    """Return the topic with this slug, retired or not."""
    if not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug) or len(slug) > MAX_SLUG:
        return None
    statement = select(Topic).where(Topic.slug == slug)
    return db.session.scalar(statement.with_for_update() if lock else statement)


def refuse_retired(chosen: Iterable[Topic], *, keep: Collection[Topic] = ()) -> None:
    """Refuse a retired topic among `chosen`, unless `keep` has it (an item filed under it
    before it was retired keeps it).

    :raises InvalidInput: naming the first retired topic.
    """
    for topic in chosen:
        if topic.retired_at is not None and topic not in keep:
            raise InvalidInput("topics", f"{topic.name} has been retired: choose a current topic")


def successor_of(topic: Topic) -> Topic | None:
    """The topic a retired topic's subscribers were moved to, if any."""
    return db.session.get(Topic, topic.successor_id) if topic.successor_id else None


def grouped(topics: Sequence[Topic]) -> list[tuple[str, list[Topic]]]:
    """Group topics under their headings, the headings in the order their first topic comes."""
    groups: dict[str, list[Topic]] = {}
    for topic in topics:
        groups.setdefault(topic.heading, []).append(topic)
    return list(groups.items())


class TopicTaken(FieldErrors):
    """The fields are fine, but another topic already has the name or the slug."""


def validate_topic(
    *, name: Any, description: Any, slug: Any, heading: Any, current: Topic | None = None
) -> TopicFields:
    """Check every field of a topic at once; an empty slug is made from the name (a new
    topic) or stays as it is (an existing one).

    :raises FieldErrors: with one message per bad field.
    :raises TopicTaken: only the name or the slug is taken.
    """
    errors: dict[str, str] = {}
    clean_name = _line(errors, "name", "Name", name, MAX_NAME, required=True)
    clean_description = _line(errors, "description", "Description", description, MAX_DESCRIPTION)
    clean_heading = _line(errors, "heading", "Heading", heading, MAX_HEADING)
    clean_slug = _line(errors, "slug", "Slug", slug, MAX_SLUG, strip=False)
    if not clean_slug and "slug" not in errors:
        # A name with no letters or numbers in it (all symbols, say) still gets an address.
        clean_slug = current.slug if current is not None else slug_from(clean_name) or "topic"
    elif "slug" not in errors and not SLUG_PATTERN.fullmatch(clean_slug):
        errors["slug"] = "Slug must use only lower-case letters a to z, numbers and hyphens"
    taken = _taken(errors, clean_name, clean_slug, current)
    if errors:
        raise FieldErrors({**errors, **taken})
    if taken:
        raise TopicTaken(taken)
    return TopicFields(clean_name, clean_description, clean_slug, clean_heading)


def slug_from(name: str) -> str:
    """Make a lower-case ASCII slug from a topic's name ("" if nothing is left)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_SLUG].strip("-")


def create_topic(fields: TopicFields, *, actor: str, now: datetime) -> Topic:
    """Add a topic at the end of the list."""
    last = db.session.scalar(select(func.max(Topic.position)))
    topic = Topic(
        name=fields.name,
        description=fields.description,
        slug=fields.slug,
        heading=fields.heading,
        position=0 if last is None else last + 1,
    )
    _save(topic)
    audit.record(actor, "created", topic, now=now, detail={"slug": topic.slug})
    return topic


def update_topic(topic: Topic, fields: TopicFields, *, actor: str, now: datetime) -> None:
    """Change a topic's name, description, heading and, while nobody has used it, slug.

    :raises Conflict: the slug would change after someone subscribed or news was filed.
    """
    if fields.slug != topic.slug and ever_used(topic):
        raise Conflict(
            f"the slug of {topic.name} cannot change: people have subscribed to it or news "
            "is filed under it, and its address must keep working"
        )
    before = {"name": topic.name, "slug": topic.slug, "heading": topic.heading}
    topic.name = fields.name
    topic.description = fields.description
    topic.heading = fields.heading
    topic.slug = fields.slug
    _save(topic)
    audit.record(actor, "edited", topic, now=now, detail={"before": before})


def ever_used(topic: Topic) -> bool:
    """Whether anyone subscribes to the topic or any news item is filed under it."""
    subscribed = exists().where(Subscription.topic_id == topic.id)
    filed = exists().where(news_item_topics.c.topic_id == topic.id)
    return bool(db.session.scalar(select(subscribed | filed)))


def move_topic(topic: Topic, *, up: bool, actor: str, now: datetime) -> bool:
    """Swap a current topic with its neighbour under the same heading; False at the edge."""
    order = list(list_topics())
    if topic not in order:
        raise Conflict(f"{topic.name} has been retired, so it has no place in the list")
    same = [other for other in order if other.heading == topic.heading]
    index = same.index(topic) + (-1 if up else 1)
    if not 0 <= index < len(same):
        return False
    here, there = order.index(topic), order.index(same[index])
    order[here], order[there] = order[there], order[here]
    _renumber(order)
    audit.record(actor, "moved", topic, now=now, detail={"direction": "up" if up else "down"})
    return True


def place_topic(topic: Topic, position: int, *, actor: str, now: datetime) -> None:
    """Put a current topic at `position` (from 0) of the list of current topics."""
    order = [other for other in list_topics() if other is not topic]
    if topic.retired_at is not None:
        raise Conflict(f"{topic.name} has been retired, so it has no place in the list")
    order.insert(max(0, min(position, len(order))), topic)
    _renumber(order)
    audit.record(actor, "moved", topic, now=now, detail={"position": topic.position})


def seed_topics() -> int:
    """Create the demo topics that do not exist yet; return how many were added."""
    existing = set(db.session.scalars(select(Topic.slug)))
    added = 0
    for position, (slug, name, description) in enumerate(DEMO_TOPICS):
        if slug not in existing:
            name_cy, description_cy = DEMO_TOPICS_CY.get(slug, ("", ""))
            db.session.add(
                Topic(
                    slug=slug,
                    name=name,
                    description=description,
                    name_cy=name_cy,
                    description_cy=description_cy,
                    position=position,
                )
            )
            added += 1
    db.session.flush()
    return added


def _renumber(order: list[Topic]) -> None:
    """Number the current topics from 0 in `order`, and the retired ones after them."""
    retired = [t for t in list_topics(include_retired=True) if t.retired_at is not None]
    for position, topic in enumerate([*order, *retired]):
        topic.position = position
    db.session.flush()


def _save(topic: Topic) -> None:
    """Flush the topic; a slug taken meanwhile by another request is a field error."""
    try:
        with db.session.begin_nested():
            db.session.add(topic)
    except IntegrityError:
        raise TopicTaken({"slug": _slug_taken(topic.slug)}) from None


def _taken(errors: dict[str, str], name: str, slug: str, current: Topic | None) -> dict[str, str]:
    """A message for a name or slug that another topic already has."""
    taken: dict[str, str] = {}
    others = select(Topic.id)
    if current is not None and current.id is not None:
        others = others.where(Topic.id != current.id)
    if "name" not in errors and db.session.scalar(
        others.where(func.lower(Topic.name) == name.lower())
    ):
        taken["name"] = f"There is already a topic called {name}: enter a different name"
    if "slug" not in errors and slug and db.session.scalar(others.where(Topic.slug == slug)):
        taken["slug"] = _slug_taken(slug)
    return taken


def _slug_taken(slug: str) -> str:
    return f"There is already a topic with the slug {slug}: enter a different slug"


def _line(
    errors: dict[str, str],
    field: str,
    label: str,
    value: Any,
    limit: int,
    *,
    required: bool = False,
    strip: bool = True,
) -> str:
    """Check one single-line text field as sent, noting a message in `errors` if it is bad;
    return it without the white space around it (`strip`)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = f"{label} must be text"
        return ""
    text = value.strip() if strip else value
    if required and not text:
        errors[field] = f"Enter a {label.lower()}"
    elif NOT_TEXT.search(value):
        errors[field] = f"{label} must be on one line, without tabs or control characters"
    elif len(value) > limit:
        errors[field] = f"{label} must be {limit} characters or fewer"
    return text
