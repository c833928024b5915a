"""Readers' messages to a case study's contact: kept, and relayed by email through the
delivery queue, so that the submitter's address is never shown."""

from __future__ import annotations

from datetime import datetime

from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyEnquiry
from mailer.models import CaseStudyState
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import MessageKind

MAX_NAME = 200
MAX_MESSAGE = 5000


def can_be_contacted(case_study: CaseStudy) -> bool:
    """Whether readers may write to the case study's contact: it is published and its
    contact agreed to be contacted."""
    return (
        case_study.state is CaseStudyState.PUBLISHED
        and case_study.contact_consent
        and bool(case_study.submitter_email)
    )


def send_enquiry(
    case_study: CaseStudy, *, name: str, email: str, message: str, now: datetime
) -> CaseStudyEnquiry:
    """Keep a reader's message and queue the email that relays it to the contact."""
    enquiry = CaseStudyEnquiry(
        case_study_id=case_study.id, name=name, email=email, message=message, created_at=now
    )
    db.session.add(enquiry)
    db.session.flush()
    db.session.add(
        Delivery(
            kind=MessageKind.CASE_STUDY_ENQUIRY,
            case_study_id=case_study.id,
            enquiry_id=enquiry.id,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    return enquiry
