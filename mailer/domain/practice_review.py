"""Staff reviewing case studies: the queue by state, the versions and what changed between
them, and the steps (start review, ask for changes, publish, reject), each in the audit log
and each with its email to the submitter queued in the same transaction. Publishing can also
publish a news item under the "Effective practice" topic, which the send runs carry to its
subscribers (an alert at once, the digests later). Functions flush; the caller commits."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import audit
from mailer.domain import news
from mailer.domain.paging import Page
from mailer.domain.paging import page_of
from mailer.domain.practice_drafts import queue_email
from mailer.domain.practice_terms import search_text
from mailer.domain.slugs import insert_with_unique_slug
from mailer.domain.slugs import slugify
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyState
from mailer.models import CaseStudyVersion
from mailer.models import MessageKind
from mailer.models import NewsItem

# The topic whose subscribers hear of newly published case studies (`mailer seed-topics`).
ALERT_TOPIC = "effective-practice"
MAX_NOTES = 2000
STATE_ORDER = (
    CaseStudyState.SUBMITTED,
    CaseStudyState.IN_REVIEW,
    CaseStudyState.CHANGES_REQUESTED,
    CaseStudyState.DRAFT,
    CaseStudyState.PUBLISHED,
    CaseStudyState.REJECTED,
)
WITH_STAFF = frozenset({CaseStudyState.SUBMITTED, CaseStudyState.IN_REVIEW})


class ReviewStateError(Conflict):
    """The case study is not in a state that allows this step."""

    hint = "Reload the page to see where it stands now."


def state_counts() -> dict[CaseStudyState, int]:
    """How many case studies are in each state."""
    rows = db.session.execute(select(CaseStudy.state, func.count()).group_by(CaseStudy.state))
    found: Counter[CaseStudyState] = Counter()
    for state, count in rows:
        found[state] = count
    return {state: found[state] for state in STATE_ORDER}


def queue_page(state: CaseStudyState, *, page: int, per_page: int) -> Page[CaseStudy]:
    """One page of the case studies in `state`, oldest change first (those waiting longest)."""
    statement = (
        select(CaseStudy)
        .where(CaseStudy.state == state)
        .order_by(CaseStudy.updated_at, CaseStudy.id)
    )
    return page_of(statement, page, per_page)


def case_study_by_id(case_study_id: int, *, lock: bool = False) -> CaseStudy | None:
    if not 1 <= case_study_id <= 2**31 - 1:
        return None
    return db.session.get(CaseStudy, case_study_id, with_for_update=lock)


def versions(case_study: CaseStudy) -> Sequence[CaseStudyVersion]:
    """Every version submitted, newest first."""
    return db.session.scalars(
        select(CaseStudyVersion)
        .where(CaseStudyVersion.case_study_id == case_study.id)
        .order_by(CaseStudyVersion.number.desc())
    ).all()


def changed_fields(older: dict[str, Any], newer: dict[str, Any]) -> list[str]:
    """The fields whose answer differs between two versions, in the order of the form."""
    return [key for key in newer if newer.get(key) != older.get(key)]


def read_notes(value: Any, field: str) -> str:
    """Staff's notes or reason: required, at most MAX_NOTES characters.

    :raises InvalidInput: empty or too long.
    """
    text = str(value or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(field, "Enter what the submitter should know")
    if len(text) > MAX_NOTES or re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        raise InvalidInput(field, f"Write plain text of {MAX_NOTES:,} characters or fewer")
    return text


def _require(case_study: CaseStudy, allowed: frozenset[CaseStudyState], step: str) -> None:
    if case_study.state not in allowed:
        raise ReviewStateError(f"cannot {step} a case study that is {case_study.state.value}")


def start_review(case_study: CaseStudy, *, actor: str, now: datetime) -> None:
    """Submitted → in review: a member of staff has taken it."""
    _require(case_study, frozenset({CaseStudyState.SUBMITTED}), "start reviewing")
    case_study.state = CaseStudyState.IN_REVIEW
    case_study.updated_at = now
    audit.record(actor, "case_study.review", case_study, now=now)


def request_changes(case_study: CaseStudy, notes: str, *, actor: str, now: datetime) -> None:
    """Send it back to the submitter with notes and a fresh link to edit and resubmit."""
    _require(case_study, WITH_STAFF, "ask for changes to")
    case_study.state = CaseStudyState.CHANGES_REQUESTED
    case_study.review_notes = notes
    case_study.updated_at = now
    queue_email(case_study, MessageKind.CASE_STUDY_CHANGES, now=now)
    audit.record(actor, "case_study.changes", case_study, now=now, detail={"notes": notes})


def reject(case_study: CaseStudy, reason: str, *, actor: str, now: datetime) -> None:
    """Turn it down with a reason the submitter is told."""
    _require(case_study, WITH_STAFF, "reject")
    case_study.state = CaseStudyState.REJECTED
    case_study.rejected_reason = reason
    case_study.updated_at = now
    queue_email(case_study, MessageKind.CASE_STUDY_REJECTED, now=now)
    audit.record(actor, "case_study.reject", case_study, now=now, detail={"reason": reason})


def publish(case_study: CaseStudy, *, actor: str, now: datetime) -> None:
    """Put it in the public library: its address (given once), its search text, and the
    email telling the submitter."""
    _require(case_study, WITH_STAFF, "publish")
    case_study.state = CaseStudyState.PUBLISHED
    case_study.published_at = case_study.published_at or now
    case_study.updated_at = now
    case_study.search_text = search_text(
        case_study.title,
        case_study.summary,
        {k: str(v) for k, v in dict(case_study.answers or {}).items() if not k.startswith("_")},
        [(tag.vocabulary, tag.code) for tag in case_study.tags],
        case_study.partners,
        case_study.area,
        case_study.csp.name if case_study.csp else "",
    )
    if case_study.slug is None:
        insert_with_unique_slug(case_study, slugify(case_study.title))
    queue_email(case_study, MessageKind.CASE_STUDY_PUBLISHED, now=now)
    audit.record(actor, "case_study.publish", case_study, now=now, detail={"slug": case_study.slug})


def publish_alert(case_study: CaseStudy, page_url: str, *, actor: str, now: datetime) -> NewsItem:
    """A published news item under the "Effective practice" topic that introduces the case
    study and links to its page: the send runs alert the topic's immediate subscribers and
    put it in the daily and weekly digests.

    :raises ReviewStateError: the case study is not published, or the news cannot be made.
    """
    _require(case_study, frozenset({CaseStudyState.PUBLISHED}), "announce")
    summary = " ".join(case_study.summary.split())
    if len(summary) > news.MAX_SUMMARY:
        summary = summary[: news.MAX_SUMMARY - 1].rsplit(" ", 1)[0] + "…"
    body = f"{case_study.summary}\n\n[Read the case study]({page_url})\n"
    # The title becomes an email subject: no MIME encoded words in it, whatever was typed.
    title = news.ENCODED_WORD.sub("", f"Effective practice: {case_study.title}")
    try:
        draft = news.validate_draft(
            title=title[: news.MAX_TITLE],
            summary=summary or case_study.title,
            body=body,
            topic_slugs=[ALERT_TOPIC],
        )
    except FieldErrors as error:
        raise ReviewStateError(f"the news item cannot be made: {error}") from None
    item = news.create_item(draft, actor=actor, now=now)
    news.publish_item(item, actor=actor, now=now)
    audit.record(actor, "case_study.announce", case_study, now=now, detail={"news": item.slug})
    return item
