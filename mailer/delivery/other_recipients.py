"""Emails to someone who is not a subscriber: a partnership's mailbox (csp_id), a case
study's submitter (case_study_id) or contact (enquiry_id), the writer of a contact-form message
or the unit's mailbox (contact_message_id)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from mailer.delivery.compose import Outgoing
from mailer.delivery.compose import recipient_header
from mailer.delivery.compose import render_email
from mailer.delivery.contact_replies import CONTACT_KINDS
from mailer.delivery.contact_replies import ContactMail
from mailer.delivery.contact_replies import contact_email
from mailer.delivery.contact_replies import why_not_send_contact
from mailer.delivery.enquiries import enquiry_parts
from mailer.delivery.enquiries import why_not_send_enquiry
from mailer.delivery.envelope import MailSettings
from mailer.delivery.envelope import outgoing_to
from mailer.delivery.partnerships import partnership_context
from mailer.delivery.partnerships import why_not_send_partnership
from mailer.delivery.practice_emails import case_study_context
from mailer.delivery.practice_emails import submitter_case_study
from mailer.delivery.practice_emails import why_not_send_case_study
from mailer.models import Delivery


def not_to_a_subscriber(delivery: Delivery) -> bool:
    """Whether the email goes to someone other than its subscriber (if it has one)."""
    return delivery.subscriber_id is None or delivery.kind in CONTACT_KINDS


def why_not_send_other(delivery: Delivery) -> str | None:
    """Why the email no longer applies to whoever it goes to, or None to send it."""
    if delivery.kind in CONTACT_KINDS:
        return why_not_send_contact(delivery)
    if delivery.enquiry_id is not None:
        return why_not_send_enquiry(delivery)
    if delivery.case_study_id is not None:
        return why_not_send_case_study(delivery)
    return why_not_send_partnership(delivery)


def compose_other(delivery: Delivery, settings: MailSettings, *, now: datetime) -> Outgoing:
    """Render and serialise an email that goes to someone other than a subscriber.

    :raises ValueError: the delivery names no one it can go to.
    """
    if delivery.kind in CONTACT_KINDS:
        mail = ContactMail(
            settings.base_url, settings.zone, settings.postal_address, settings.contact_unit_email
        )
        rendered, to = contact_email(delivery, mail)
        return outgoing_to(rendered, to, settings, {}, now=now)
    if delivery.enquiry_id is not None:
        return _relay_enquiry(delivery, settings, now=now)
    if delivery.case_study_id is not None:
        return _to_submitter(delivery, settings, now=now)
    return _to_partnership(delivery, settings, now=now)


def _to_partnership(delivery: Delivery, settings: MailSettings, *, now: datetime) -> Outgoing:
    """The email with a partnership's link to its directory entry, to its role mailbox."""
    csp = delivery.csp
    if csp is None:
        raise ValueError("the delivery names neither a subscriber nor a partnership")
    context = partnership_context(
        csp, delivery.kind, base_url=settings.base_url, days=settings.csp_days
    )
    rendered = render_email("csp_link", {**context, "postal_address": settings.postal_address})
    return outgoing_to(rendered, csp.email, settings, {}, now=now)


def _relay_enquiry(delivery: Delivery, settings: MailSettings, *, now: datetime) -> Outgoing:
    """A reader's message to a case study's contact; replies go to the reader's address."""
    parts = enquiry_parts(delivery, base_url=settings.base_url)
    context = {**parts.context, "postal_address": settings.postal_address}
    rendered = render_email("case_study_enquiry", context)
    relayed = replace(settings, reply_to=recipient_header(parts.reply_to))
    return outgoing_to(rendered, parts.to, relayed, {}, now=now)


def _to_submitter(delivery: Delivery, settings: MailSettings, *, now: datetime) -> Outgoing:
    """An email to a case study's submitter, at the address they gave."""
    case_study = submitter_case_study(delivery)
    if case_study is None:
        raise ValueError("the delivery names no case study")
    context = case_study_context(
        case_study, delivery.kind, base_url=settings.base_url, days=settings.case_study_days
    )
    rendered = render_email(
        delivery.kind.value, {**context, "postal_address": settings.postal_address}
    )
    return outgoing_to(rendered, case_study.submitter_email, settings, {}, now=now)
