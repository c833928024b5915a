"""The emails to a case study's submitter (a delivery with a case_study_id and no
subscriber): the link to their draft, the changes staff ask for, and the outcome of the
review. Each is transactional: no list headers."""

from __future__ import annotations

from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyState
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.tokens import case_study_token

EDITABLE = frozenset({CaseStudyState.DRAFT, CaseStudyState.CHANGES_REQUESTED})
# The state a case study must still be in for each email to make sense when it is sent.
STILL_APPLIES: dict[MessageKind, frozenset[CaseStudyState]] = {
    MessageKind.CASE_STUDY_LINK: EDITABLE,
    MessageKind.CASE_STUDY_CHANGES: frozenset({CaseStudyState.CHANGES_REQUESTED}),
    MessageKind.CASE_STUDY_PUBLISHED: frozenset({CaseStudyState.PUBLISHED}),
    MessageKind.CASE_STUDY_REJECTED: frozenset({CaseStudyState.REJECTED}),
}
CASE_STUDY_KINDS = frozenset(STILL_APPLIES)


def submitter_case_study(delivery: Delivery) -> CaseStudy | None:
    """The case study whose submitter the delivery goes to."""
    if delivery.case_study_id is None or delivery.kind not in CASE_STUDY_KINDS:
        return None
    return db.session.get(CaseStudy, delivery.case_study_id)


def why_not_send_case_study(delivery: Delivery) -> str | None:
    """Why an email to a submitter no longer applies, or None to send it."""
    case_study = submitter_case_study(delivery)
    if case_study is None:
        return "names no case study"
    if case_study.state not in STILL_APPLIES[delivery.kind]:
        return f"case study is {case_study.state.value}"
    return None


def case_study_context(
    case_study: CaseStudy, kind: MessageKind, *, base_url: str, days: int
) -> dict[str, object]:
    """What the submitter's email templates show; the link is made now, so it names the links
    used so far and spends every older one."""
    context: dict[str, object] = {
        "title": case_study.title,
        "link_days": days,
        "new_link_url": f"{base_url}/effective-practice/submit/new-link",
    }
    if kind in (MessageKind.CASE_STUDY_LINK, MessageKind.CASE_STUDY_CHANGES):
        token = case_study_token(case_study.id, case_study.links_used)
        context["edit_url"] = f"{base_url}/effective-practice/submit/link/{token}"
    if kind is MessageKind.CASE_STUDY_CHANGES:
        context["notes"] = case_study.review_notes
    if kind is MessageKind.CASE_STUDY_PUBLISHED:
        context["page_url"] = f"{base_url}/effective-practice/{case_study.slug}"
    if kind is MessageKind.CASE_STUDY_REJECTED:
        context["reason"] = case_study.rejected_reason
    return context
