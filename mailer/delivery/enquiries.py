"""The email that relays a reader's message to a case study's contact (a delivery with an
enquiry_id and no subscriber): when it still applies, what it shows, where replies go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import exists

from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyEnquiry
from mailer.models import CaseStudyState
from mailer.models import Delivery


@dataclass(frozen=True)
class EnquiryParts:
    """What the relayed email shows, who it goes to, and the reader's address for Reply-To."""

    context: dict[str, Any]
    to: str
    reply_to: str


def _found(delivery: Delivery) -> tuple[CaseStudyEnquiry | None, CaseStudy | None]:
    enquiry = db.session.get(CaseStudyEnquiry, delivery.enquiry_id or 0)
    case_study = db.session.get(CaseStudy, enquiry.case_study_id) if enquiry else None
    return enquiry, case_study


def why_not_send_enquiry(delivery: Delivery) -> str | None:
    """Why a relayed message no longer applies, or None to send it."""
    enquiry, case_study = _found(delivery)
    if enquiry is None or case_study is None:
        return "names no enquiry"
    if case_study.state is not CaseStudyState.PUBLISHED:
        return "case study is no longer published"
    if not case_study.contact_consent or not case_study.submitter_email:
        return "contact no longer agrees to be contacted"
    return None


def enquiry_parts(delivery: Delivery, *, base_url: str) -> EnquiryParts:
    """The relayed message, to the case study's submitter, replies to the reader.

    :raises ValueError: the delivery names no enquiry.
    """
    enquiry, case_study = _found(delivery)
    if enquiry is None or case_study is None:
        raise ValueError("the delivery names no enquiry")
    context = {
        "case_study": case_study,
        "page_url": f"{base_url}/effective-practice/{case_study.slug}",
        "reader_name": enquiry.name,
        "reader_email": enquiry.email,
        "message": enquiry.message,
    }
    return EnquiryParts(context, case_study.submitter_email, enquiry.email)


def enquiry_still_wanted() -> ColumnElement[bool]:
    """The condition, on Delivery, that a relayed message still applies (for the queue)."""
    return exists().where(
        CaseStudyEnquiry.id == Delivery.enquiry_id,
        CaseStudy.id == CaseStudyEnquiry.case_study_id,
        CaseStudy.state == CaseStudyState.PUBLISHED,
        CaseStudy.contact_consent.is_(True),
        CaseStudy.submitter_email != "",
    )
