"""Case study drafts: started from an email address (no account), reached by an emailed,
single-use link, saved a section at a time, and submitted for review as a new version.
Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import audit
from mailer.domain.practice_tasks import REQUIRED_TASKS
from mailer.domain.practice_tasks import TASK_KEYS
from mailer.domain.practice_tasks import TASKS
from mailer.domain.practice_tasks import Task
from mailer.domain.practice_terms import SECTIONS
from mailer.domain.practice_terms import VOCABULARIES
from mailer.errors import Conflict
from mailer.errors import FieldErrors
from mailer.errors import InvalidToken
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from mailer.models import CaseStudyTag
from mailer.models import CaseStudyVersion
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind
from mailer.tokens import read_case_study_token

# The states in which the submitter may change a case study.
EDITABLE = frozenset({CaseStudyState.DRAFT, CaseStudyState.CHANGES_REQUESTED})
# How many of one address's drafts a "send me a new link" request sends links to.
RESEND_LIMIT = 5
NOT_STARTED, IN_PROGRESS, COMPLETED = "not_started", "in_progress", "completed"
SUBMITTER = "submitter"
# Section states and form answers with no column of their own, kept in `answers`.
STATUS_KEY = "_status"


class NotEditable(Conflict):
    """The case study is with staff, published or rejected: the submitter cannot change it."""

    hint = "It has been sent for review. We will email you about it."


def queue_email(case_study: CaseStudy, kind: MessageKind, *, now: datetime) -> None:
    """A delivery to the case study's submitter; the link in it is made when it is sent."""
    db.session.add(
        Delivery(
            kind=kind,
            case_study_id=case_study.id,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )


def start_draft(email: str, *, now: datetime) -> CaseStudy:
    """A new, empty draft for `email` (normalised), and the email with its link."""
    case_study = CaseStudy(
        state=CaseStudyState.DRAFT,
        submitter_email=email,
        answers={},
        created_at=now,
        updated_at=now,
    )
    db.session.add(case_study)
    db.session.flush()
    queue_email(case_study, MessageKind.CASE_STUDY_LINK, now=now)
    audit.record("public", "case_study.start", case_study, now=now)
    return case_study


def resend_links(email: str, *, now: datetime) -> int:
    """Email a fresh link to each draft of `email` the submitter may still change; returns
    how many (the page says the same whatever it is)."""
    found = db.session.scalars(
        select(CaseStudy)
        .where(CaseStudy.submitter_email == email, CaseStudy.state.in_(EDITABLE))
        .order_by(CaseStudy.updated_at.desc())
        .limit(RESEND_LIMIT)
    ).all()
    for case_study in found:
        queue_email(case_study, MessageKind.CASE_STUDY_LINK, now=now)
    return len(found)


def case_study_for_link(token: str, *, lock: bool = False) -> CaseStudy:
    """The case study an emailed link names, while the link is unused.

    :raises InvalidToken: tampered or too old (ExpiredToken), used already, or the case
        study is no longer the submitter's to change.
    """
    case_study_id, used = read_case_study_token(token)
    case_study = db.session.get(CaseStudy, case_study_id, with_for_update=lock)
    if case_study is None or case_study.links_used != used or case_study.state not in EDITABLE:
        raise InvalidToken("the link was used already, or names no draft")
    return case_study


def use_link(token: str, *, now: datetime) -> CaseStudy:
    """Spend an emailed link: the case study it names, which the browser may now change
    (this link and every older one stop working)."""
    case_study = case_study_for_link(token, lock=True)
    case_study.links_used += 1
    case_study.updated_at = now
    return case_study


def editable(case_study_id: int, *, lock: bool = False) -> CaseStudy | None:
    """The case study, if its submitter may still change it."""
    if not 1 <= case_study_id <= 2**31 - 1:
        return None
    case_study = db.session.get(CaseStudy, case_study_id, with_for_update=lock)
    return case_study if case_study is not None and case_study.state in EDITABLE else None


def current_csps() -> Sequence[Csp]:
    """The partnerships a submitter may choose from: the current ones, A to Z."""
    return db.session.scalars(
        select(Csp).where(Csp.status == CspStatus.ACTIVE).order_by(Csp.name)
    ).all()


def task_status(case_study: CaseStudy, key: str) -> str:
    """Not yet started, in progress or completed."""
    if key == "attachments":
        return COMPLETED if case_study.attachments else NOT_STARTED
    return str(dict(case_study.answers or {}).get(STATUS_KEY, {}).get(key, NOT_STARTED))


def save_task(
    case_study: CaseStudy, task: Task, values: dict[str, Any], *, complete: bool, now: datetime
) -> None:
    """Keep one section's answers and whether the submitter says it is completed."""
    if case_study.state not in EDITABLE:
        raise NotEditable("the case study is not a draft")
    answers = dict(case_study.answers or {})
    for name, value in values.items():
        _apply(case_study, answers, name, value)
    answers[STATUS_KEY] = {
        **answers.get(STATUS_KEY, {}),
        task.key: COMPLETED if complete else IN_PROGRESS,
    }
    case_study.answers = answers
    case_study.updated_at = now


def _apply(case_study: CaseStudy, answers: dict[str, Any], name: str, value: Any) -> None:
    if name in ("themes", "crime_types"):
        vocabulary = "theme" if name == "themes" else "crime_type"
        kept = [tag for tag in case_study.tags if tag.vocabulary != vocabulary]
        case_study.tags = kept + [CaseStudyTag(vocabulary=vocabulary, code=c) for c in value]
    elif name == "csp":
        csp = db.session.scalar(select(Csp).where(Csp.code == value)) if value else None
        case_study.csp_id = csp.id if csp else None
    elif name in ("started", "ended"):
        setattr(case_study, f"{name}_on", value)
    elif name == "rating":
        case_study.rating = CaseStudyRating(value) if value else None
    elif name == "evaluated":
        case_study.evaluated = value == "yes"
        answers["evaluated"] = value
    elif name == "nation":
        case_study.nation = value or None
    elif name in SECTIONS:
        answers[name] = value
    else:
        setattr(case_study, name, value)


def form_values(case_study: CaseStudy, task: Task) -> dict[str, Any]:
    """What a section's page shows in its fields: the answers saved so far."""
    values: dict[str, Any] = {}
    answers = dict(case_study.answers or {})
    for question in task.questions:
        name = question.name
        if name in ("themes", "crime_types"):
            vocabulary = "theme" if name == "themes" else "crime_type"
            values[name] = [tag.code for tag in case_study.tags if tag.vocabulary == vocabulary]
        elif name == "csp":
            values[name] = case_study.csp.code if case_study.csp else ""
        elif name in ("started", "ended"):
            values.update(_date_parts(name, getattr(case_study, f"{name}_on")))
        elif name == "rating":
            values[name] = case_study.rating.value if case_study.rating else ""
        elif name in SECTIONS or name == "evaluated":
            values[name] = answers.get(name, "")
        else:
            values[name] = getattr(case_study, name)
    return values


def _date_parts(name: str, day: date | None) -> dict[str, str]:
    if day is None:
        return {f"{name}-day": "", f"{name}-month": "", f"{name}-year": ""}
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def submit(case_study: CaseStudy, *, now: datetime) -> CaseStudyVersion:
    """Send the draft for review, keeping what it says now as a new version.

    :raises FieldErrors: a section is not completed ({task key: message}).
    """
    if case_study.state not in EDITABLE:
        raise NotEditable("the case study is not a draft")
    missing = {
        key: f"Complete the section ‘{TASK_KEYS[key].title}’"
        for key in REQUIRED_TASKS
        if task_status(case_study, key) != COMPLETED
    }
    if missing:
        raise FieldErrors(missing)
    number = (
        db.session.scalar(
            select(func.max(CaseStudyVersion.number)).where(
                CaseStudyVersion.case_study_id == case_study.id
            )
        )
        or 0
    ) + 1
    version = CaseStudyVersion(
        case_study_id=case_study.id, number=number, content=snapshot(case_study), created_at=now
    )
    db.session.add(version)
    case_study.state = CaseStudyState.SUBMITTED
    case_study.submitted_at = now
    case_study.updated_at = now
    audit.record(SUBMITTER, "case_study.submit", case_study, now=now, detail={"version": number})
    return version


def snapshot(case_study: CaseStudy) -> dict[str, Any]:
    """Everything the case study says, as JSON, in the order of its task list."""
    answers = dict(case_study.answers or {})
    return {
        "title": case_study.title,
        "summary": case_study.summary,
        "csp": case_study.csp.name if case_study.csp else "",
        "partners": case_study.partners,
        "themes": [
            VOCABULARIES["theme"][t.code] for t in case_study.tags if t.vocabulary == "theme"
        ],
        "crime_types": [
            VOCABULARIES["crime_type"][t.code]
            for t in case_study.tags
            if t.vocabulary == "crime_type"
        ],
        "nation": case_study.nation or "",
        "area": case_study.area,
        **{key: str(answers.get(key, "")) for key in SECTIONS},
        "evaluated": case_study.evaluated,
        "rating": case_study.rating.value if case_study.rating else "",
        "started_on": case_study.started_on.isoformat() if case_study.started_on else "",
        "ended_on": case_study.ended_on.isoformat() if case_study.ended_on else "",
        "contact_role": case_study.contact_role,
        "contact_consent": case_study.contact_consent,
        "attachments": [f"{a.filename} ({a.sha256[:12]})" for a in case_study.attachments],
    }


def statuses(case_study: CaseStudy) -> list[tuple[Task, str]]:
    """Each section of the task list with its status."""
    return [(task, task_status(case_study, task.key)) for task in TASKS]
