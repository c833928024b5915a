"""Bulletins: newsletters staff write, from draft through the two-person rule to sending.

Functions flush; the caller owns the transaction. Under the two-person rule
(`approval=True`) a bulletin is sent or scheduled only once someone other than its submitter
has approved it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mailer.domain import audit
from mailer.domain import news
from mailer.domain import segments
from mailer.domain.bulletin_lists import archive_page
from mailer.domain.bulletin_lists import bulletins_page
from mailer.domain.bulletin_lists import published_by_slug
from mailer.domain.bulletin_lists import recent_published
from mailer.domain.segments import EVERYWHERE
from mailer.domain.segments import Segment
from mailer.domain.send_runs import make_bulletin_run
from mailer.domain.send_runs import run_audience
from mailer.domain.slugs import insert_with_unique_slug
from mailer.domain.slugs import slugify
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import Bulletin
from mailer.models import BulletinItem
from mailer.models import BulletinState
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import SendRun
from mailer.models import Topic

MAX_SUBJECT = 200
MAX_BODY = news.MAX_BODY
MAX_ITEMS = 20
MAX_TOPICS = 100
# States a bulletin can still be changed in; editing one that was waiting or approved sends it
# back to draft.
EDITABLE = frozenset(
    {
        BulletinState.DRAFT,
        BulletinState.AWAITING_APPROVAL,
        BulletinState.APPROVED,
        BulletinState.SCHEDULED,
        BulletinState.CANCELLED,
    }
)


class BulletinStateError(Conflict):
    """The bulletin is not in a state that allows this change."""

    hint = "Go back to the bulletin to see where it is now."


class ApprovalNeeded(BulletinStateError):
    """The two-person rule holds and the bulletin is not approved."""

    hint = "Submit it for approval: another member of staff must approve it."


@dataclass(frozen=True)
class Content:
    """What a bulletin says and whom it goes to, validated."""

    subject: str
    body: str
    everyone: bool
    topics: tuple[Topic, ...]
    items: tuple[NewsItem, ...]
    public: bool
    segment: Segment = EVERYWHERE


__all__ = ["archive_page", "bulletins_page", "published_by_slug", "recent_published"]


def validate(
    *,
    subject: Any,
    body: Any,
    everyone: Any,
    topic_slugs: Any,
    item_ids: Any,
    public: Any,
    segment: Any = None,
) -> Content:
    """Check every field of a bulletin at once, with the news items' rules for text.

    :raises FieldErrors: with a message per bad field.
    """
    errors: dict[str, str] = {}
    clean_subject = news._text(errors, "subject", subject, MAX_SUBJECT, required=True)
    if "subject" not in errors and news.ENCODED_WORD.search(clean_subject):
        # The subject is the Subject header: older email packages decode an encoded word
        # in it into a line break.
        errors["subject"] = "Subject must not contain =?...?= encoded text"
    clean_body = news._text(errors, "body", body, MAX_BODY, required=False, multiline=True)
    if not isinstance(everyone, bool):
        errors["everyone"] = "Everyone must be true or false"
    if not isinstance(public, bool):
        errors["public"] = "Public must be true or false"
    topics = _topics(errors, topic_slugs, everyone=everyone is True)
    items = _items(errors, item_ids)
    chosen = segments.parse(errors, segment)
    if errors:
        raise FieldErrors(errors)
    return Content(
        clean_subject, clean_body, everyone is True, topics, items, public is True, chosen
    )


def _topics(errors: dict[str, str], slugs: Any, *, everyone: bool) -> tuple[Topic, ...]:
    """The topics named by `slugs`: current ones only, and none when it goes to everyone."""
    if not isinstance(slugs, list | tuple) or not all(isinstance(s, str) for s in slugs):
        errors["topics"] = "Topics must be a list of topic slugs"
        return ()
    wanted = set(slugs)
    if everyone and wanted:
        errors["topics"] = "Choose everyone or some topics, not both"
        return ()
    if not everyone and not wanted:
        errors["topics"] = "Select at least one topic, or send it to everyone"
        return ()
    if len(wanted) > MAX_TOPICS or any(len(slug) > 60 for slug in wanted):
        errors["topics"] = "Select topics from the list"
        return ()
    found = db.session.scalars(
        select(Topic).where(Topic.slug.in_(wanted)).order_by(Topic.position, Topic.id)
    ).all()
    unknown = sorted(wanted - {topic.slug for topic in found})
    retired = [topic.name for topic in found if topic.retired_at is not None]
    if unknown:
        errors["topics"] = f"There is no topic {unknown[0][:60]!r}: choose topics from the list"
    elif retired:
        errors["topics"] = f"The topic {retired[0]} is retired: choose another"
    return tuple(found)


def _items(errors: dict[str, str], ids: Any) -> tuple[NewsItem, ...]:
    """The published news items with these ids, in the order given, each once."""
    if not isinstance(ids, list | tuple) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        errors["items"] = "Items must be a list of news item ids"
        return ()
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_ITEMS:
        errors["items"] = f"Feature {MAX_ITEMS} news items or fewer"
        return ()
    bad = [i for i in wanted if not 1 <= i <= news.MAX_ID]
    found = {}
    if not bad:
        rows = db.session.scalars(select(NewsItem).where(NewsItem.id.in_(wanted))).all()
        found = {item.id: item for item in rows if item.state is NewsState.PUBLISHED}
        bad = [i for i in wanted if i not in found]
    if bad:
        errors["items"] = f"News item {bad[0]} is not a published news item"
        return ()
    return tuple(found[i] for i in wanted)


def create(content: Content, *, actor: str, now: datetime) -> Bulletin:
    """Add a draft bulletin with a unique slug made from its subject."""
    bulletin = Bulletin(
        state=BulletinState.DRAFT, created_by=actor[:400], created_at=now, updated_at=now
    )
    _apply(bulletin, content)
    insert_with_unique_slug(bulletin, slugify(content.subject))
    audit.record(actor, "bulletin.create", bulletin, now=now, detail={"subject": content.subject})
    return bulletin


def update(bulletin: Bulletin, content: Content, *, actor: str, now: datetime) -> None:
    """Change an unsent bulletin. An approval covers what was approved: a change sends a
    bulletin waiting for approval, approved or scheduled back to draft (a scheduled one only
    under the two-person rule, which `bulletin.approved_by` shows was in force)."""
    if bulletin.state not in EDITABLE:
        raise BulletinStateError(f"a {_words(bulletin.state)} bulletin cannot be changed")
    _apply(bulletin, content)
    approved = bulletin.approved_by is not None
    if bulletin.state is not BulletinState.SCHEDULED or approved:
        _back_to_draft(bulletin)
    bulletin.updated_at = now
    audit.record(actor, "bulletin.edit", bulletin, now=now, detail={"subject": content.subject})


def _back_to_draft(bulletin: Bulletin) -> None:
    bulletin.state = BulletinState.DRAFT
    bulletin.submitted_by = bulletin.approved_by = bulletin.approved_at = None
    bulletin.send_at = None


def submit(bulletin: Bulletin, *, actor: str, now: datetime) -> None:
    """Ask a second member of staff to approve a draft."""
    if bulletin.state is not BulletinState.DRAFT:
        raise BulletinStateError(f"only a draft can be submitted, not a {_words(bulletin.state)}")
    bulletin.state, bulletin.submitted_by, bulletin.updated_at = (
        BulletinState.AWAITING_APPROVAL,
        actor[:400],
        now,
    )
    audit.record(actor, "bulletin.submit", bulletin, now=now)


def approve(bulletin: Bulletin, *, actor: str, now: datetime) -> None:
    """Approve a bulletin someone else submitted.

    :raises BulletinStateError: it is not waiting, or `actor` is the person who submitted it.
    """
    if bulletin.state is not BulletinState.AWAITING_APPROVAL:
        raise BulletinStateError(
            f"only a bulletin waiting for approval can be approved, not a "
            f"{_words(bulletin.state)} one"
        )
    if person(actor) == person(bulletin.submitted_by or ""):
        raise BulletinStateError(
            "you submitted this bulletin, so you cannot approve it too: another member of "
            "staff must approve it"
        )
    bulletin.state, bulletin.approved_by, bulletin.approved_at = (
        BulletinState.APPROVED,
        actor[:400],
        now,
    )
    bulletin.updated_at = now
    audit.record(
        actor, "bulletin.approve", bulletin, now=now, detail={"submitted_by": bulletin.submitted_by}
    )


def person(actor: str) -> str:
    """Who an actor is, whatever they acted through: "staff:3" of "staff:3 ann@example.org"."""
    return actor.split(" ", 1)[0]


def send_now(bulletin: Bulletin, *, actor: str, now: datetime, approval: bool) -> SendRun:
    """Make the bulletin's send run, which enqueues one email to each reader of its audience.

    :raises ApprovalNeeded: under the two-person rule, it is not approved.
    """
    _check_sendable(bulletin, approval=approval)
    run, _ = make_bulletin_run(bulletin, actor=actor, now=now)
    bulletin.state, bulletin.sent_at, bulletin.updated_at = BulletinState.SENT, now, now
    audit.record(
        actor, "bulletin.send", bulletin, now=now, detail={"run": run.id, "to": run.recipients}
    )
    return run


def schedule(
    bulletin: Bulletin, at: datetime, *, actor: str, now: datetime, approval: bool
) -> None:
    """Send the bulletin at `at`, a time in the future (the scheduler's job does).

    :raises InvalidInput: `at` is not in the future.
    """
    _check_sendable(bulletin, approval=approval)
    if at <= now:
        raise InvalidInput("at", "The time must be in the future, or send it now")
    bulletin.state, bulletin.send_at, bulletin.updated_at = BulletinState.SCHEDULED, at, now
    audit.record(actor, "bulletin.schedule", bulletin, now=now, detail={"at": at.isoformat()})


def _check_sendable(bulletin: Bulletin, *, approval: bool) -> None:
    if bulletin.state in (BulletinState.SENT, BulletinState.CANCELLED):
        raise BulletinStateError(f"the bulletin is {_words(bulletin.state)}")
    if approval and bulletin.approved_by is None:
        raise ApprovalNeeded(
            "the two-person rule is on: another member of staff must approve this bulletin "
            "before it is sent or scheduled"
        )
    if bulletin.state is BulletinState.AWAITING_APPROVAL:
        raise BulletinStateError("the bulletin is waiting for approval")


def cancel(bulletin: Bulletin, *, actor: str, now: datetime) -> None:
    """Stop a scheduled bulletin from being sent."""
    if bulletin.state is not BulletinState.SCHEDULED:
        raise BulletinStateError(
            f"only a scheduled bulletin can be cancelled, not a {_words(bulletin.state)} one"
        )
    bulletin.state, bulletin.send_at, bulletin.updated_at = BulletinState.CANCELLED, None, now
    audit.record(actor, "bulletin.cancel", bulletin, now=now)


def send_due(*, now: datetime) -> list[SendRun]:
    """Send every scheduled bulletin whose time has come; return their runs."""
    due = db.session.scalars(
        select(Bulletin)
        .where(Bulletin.state == BulletinState.SCHEDULED, Bulletin.send_at <= now)
        .order_by(Bulletin.send_at, Bulletin.id)
        .with_for_update(skip_locked=True)
    ).all()
    # The approval was checked when it was scheduled.
    return [send_now(bulletin, actor="scheduler", now=now, approval=False) for bulletin in due]


def audience_count(bulletin: Bulletin) -> int:
    """How many readers the bulletin would reach now: the very condition its run enqueues."""
    db.session.flush()
    return run_audience(SendRun(bulletin_id=bulletin.id)).count()


def record_test(bulletin: Bulletin, *, to: str, actor: str, now: datetime) -> None:
    """Note in the audit log that a test of the bulletin was sent to `to`."""
    audit.record(actor, "bulletin.test", bulletin, now=now, detail={"to": to})


def bulletin_by_id(bulletin_id: int, *, lock: bool = False) -> Bulletin | None:
    if not 1 <= bulletin_id <= news.MAX_ID:
        return None
    return db.session.get(Bulletin, bulletin_id, with_for_update=lock)


def featured(bulletin: Bulletin) -> list[NewsItem]:
    """The featured items still published, in the bulletin's order."""
    return [row.news_item for row in bulletin.items if row.news_item.state is NewsState.PUBLISHED]


def run_of(bulletin: Bulletin) -> SendRun | None:
    return db.session.scalar(select(SendRun).where(SendRun.bulletin_id == bulletin.id))


def _apply(bulletin: Bulletin, content: Content) -> None:
    bulletin.subject = content.subject
    bulletin.body_markdown = content.body
    bulletin.body_html = news.render_markdown(content.body)
    bulletin.everyone = content.everyone
    bulletin.public = content.public
    bulletin.segment = content.segment.to_json()
    bulletin.topics = list(content.topics)
    by_id = {row.news_item_id: row for row in bulletin.items}
    rows = []
    for position, item in enumerate(content.items):
        row = by_id.get(item.id) or BulletinItem(news_item_id=item.id, news_item=item)
        row.position = position
        rows.append(row)
    bulletin.items = rows


def _words(state: BulletinState) -> str:
    return state.value.replace("_", " ")
