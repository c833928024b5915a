"""The staff review of case studies: the queue by state, one case study with every version
and what changed, and the steps: start review, ask for changes, publish (optionally with news
for the topic's subscribers), reject. Editors and admins may review."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import practice_files
from mailer.domain import practice_review as review
from mailer.domain.practice_drafts import snapshot
from mailer.domain.practice_terms import RATINGS
from mailer.domain.practice_terms import SECTIONS
from mailer.errors import InvalidInput
from mailer.models import CaseStudy
from mailer.models import CaseStudyState
from mailer.web.paging import requested_page
from mailer.web.practice.attachments import send_attachment
from mailer.web.staff.auth import current_actor

bp = Blueprint("case_studies", __name__)

PAGE_SIZE = 25
STATE_WORDS = {
    CaseStudyState.SUBMITTED: "Submitted",
    CaseStudyState.IN_REVIEW: "In review",
    CaseStudyState.CHANGES_REQUESTED: "Changes requested",
    CaseStudyState.DRAFT: "Drafts",
    CaseStudyState.PUBLISHED: "Published",
    CaseStudyState.REJECTED: "Rejected",
}
FIELD_WORDS = {
    "title": "Title",
    "summary": "Summary",
    "csp": "Partnership",
    "partners": "Partner organisations",
    "themes": "Themes",
    "crime_types": "Crime types",
    "nation": "Nation",
    "area": "Area",
    **SECTIONS,
    "evaluated": "Evaluated",
    "rating": "Rating",
    "started_on": "Started",
    "ended_on": "Ended",
    "contact_role": "Role to contact",
    "contact_consent": "Agreed to be contacted",
    "attachments": "Attachments",
}


@bp.get("/case-studies")
def queue() -> str:
    """The case studies in one state (submitted first), with the count in each."""
    try:
        state = CaseStudyState(request.args.get("state", CaseStudyState.SUBMITTED.value))
    except ValueError:
        abort(404)
    page = review.queue_page(state, page=requested_page() or 1, per_page=PAGE_SIZE)
    return render_template(
        "staff/case_studies/queue.html",
        state=state,
        page=page,
        counts=review.state_counts(),
        state_words=STATE_WORDS,
    )


@bp.get("/case-studies/<int:case_study_id>")
def case_study(case_study_id: int) -> str:
    """The case study as it is now, its versions (newest first, with what changed), its
    history and the steps staff can take."""
    found = _or_404(case_study_id)
    versions = review.versions(found)
    changes = {
        newer.number: [
            FIELD_WORDS.get(key, key) for key in review.changed_fields(older.content, newer.content)
        ]
        for newer, older in zip(versions, versions[1:], strict=False)
    }
    return render_template(
        "staff/case_studies/case_study.html",
        case_study=found,
        content=snapshot(found),
        versions=versions,
        changes=changes,
        field_words=FIELD_WORDS,
        state_words=STATE_WORDS,
        ratings={rating.value: label for rating, label in RATINGS.items()},
        history=audit.recent(limit=50, target=found),
        errors={},
    )


@bp.post("/case-studies/<int:case_study_id>/review")
def start_review(case_study_id: int) -> Response:
    with transaction():
        review.start_review(
            _or_404(case_study_id, lock=True), actor=current_actor(), now=clock.now()
        )
    flash("You are reviewing this case study")
    return redirect(url_for(".case_study", case_study_id=case_study_id))


@bp.post("/case-studies/<int:case_study_id>/changes")
def request_changes(case_study_id: int) -> Any:
    """Send it back with notes; the submitter gets them with a new link."""
    return _with_notes(case_study_id, "notes", review.request_changes, "Changes requested")


@bp.post("/case-studies/<int:case_study_id>/reject")
def reject(case_study_id: int) -> Any:
    return _with_notes(case_study_id, "reason", review.reject, "Case study rejected")


def _with_notes(case_study_id: int, field: str, step: Any, done: str) -> Any:
    try:
        notes = review.read_notes(request.form.get(field), field)
    except InvalidInput as error:
        return _page_with_errors(case_study_id, {error.field: error.message})
    with transaction():
        step(_or_404(case_study_id, lock=True), notes, actor=current_actor(), now=clock.now())
    flash(f"{done}: the submitter will get an email")
    return redirect(url_for(".case_study", case_study_id=case_study_id))


@bp.post("/case-studies/<int:case_study_id>/publish")
def publish(case_study_id: int) -> Response:
    """Publish, and with `alert=yes` publish news under "Effective practice" in the same
    transaction, which the send runs carry to the topic's subscribers."""
    now, actor = clock.now(), current_actor()
    with transaction():
        found = _or_404(case_study_id, lock=True)
        review.publish(found, actor=actor, now=now)
        if request.form.get("alert") == "yes":
            review.publish_alert(found, _public_url(found.slug or ""), actor=actor, now=now)
    flash("Published: the submitter will get an email")
    return redirect(url_for(".case_study", case_study_id=case_study_id))


def _public_url(slug: str) -> str:
    return f"{current_app.config['BASE_URL']}/effective-practice/{slug}"


@bp.get("/case-studies/<int:case_study_id>/attachments/<int:attachment_id>")
def attachment(case_study_id: int, attachment_id: int) -> Response:
    """Any case study's file, published or not."""
    found = practice_files.staff_attachment(case_study_id, attachment_id)
    if found is None:
        abort(404)
    return send_attachment(found)


def _page_with_errors(case_study_id: int, errors: dict[str, str]) -> tuple[str, int]:
    found = _or_404(case_study_id)
    page = render_template(
        "staff/case_studies/case_study.html",
        case_study=found,
        content=snapshot(found),
        versions=review.versions(found),
        changes={},
        field_words=FIELD_WORDS,
        state_words=STATE_WORDS,
        ratings={rating.value: label for rating, label in RATINGS.items()},
        history=[],
        errors=errors,
    )
    return page, 400


def _or_404(case_study_id: int, *, lock: bool = False) -> CaseStudy:
    found = review.case_study_by_id(case_study_id, lock=lock)
    if found is None:
        abort(404)
    return found
