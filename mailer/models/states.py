"""The enums of the models' states, and the sets of them that rules refer to."""

from __future__ import annotations

import enum


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"
    # Personal data removed on request or by retention; the row stays so that delivery
    # records keep their counts, and the address lives on only as a suppression hash.
    ERASED = "erased"


# Who may be emailed a link to a copy of their data: everyone held who may still be mailed.
# Suppressed addresses bounced or complained, so nothing more goes to them; staff answer them.
DATA_COPY_RECIPIENTS = frozenset(
    {SubscriberStatus.PENDING, SubscriberStatus.ACTIVE, SubscriberStatus.UNSUBSCRIBED}
)


class Frequency(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class ConsentAction(enum.StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CHANGED = "changed"
    UNSUBSCRIBED = "unsubscribed"
    # Added by staff from a list import, with the consent source the list gave.
    IMPORTED = "imported"


# The `method` of the consent events of subscriptions staff moved when they retired a topic.
STAFF_TOPIC_MOVE = "staff-topic-retired"


class MessageKind(enum.StrEnum):
    CONFIRM = "confirm"
    # The confirmation asked of someone imported from a list without a consent record.
    INVITE = "invite"
    MANAGE = "manage"
    # A single-use link to download a copy of everything held about the address.
    DATA_COPY = "data_copy"
    WELCOME = "welcome"
    # An active subscriber signed up again with more topics: confirm adding them.
    ADD_TOPICS = "add_topics"
    # To the new address a subscriber asked to move to: confirm it is theirs.
    EMAIL_CHANGE = "email_change"
    # List mail of a send run: one news item at once, or a digest of a period.
    ALERT = "alert"
    DIGEST = "digest"
    # A bulletin staff wrote, sent once to each reader of its audience whatever their frequency.
    BULLETIN = "bulletin"
    # Tells a subscriber that a topic they followed has been retired, and where they were moved.
    TOPIC_ENDED = "topic_ended"
    # To a partnership's role mailbox, not a subscriber: a link to review and confirm its
    # contact details in the CSP directory, sent by staff or by the yearly reminder.
    CSP_LINK = "csp_link"
    CSP_REMINDER = "csp_reminder"
    # To the person who wrote through the contact form: a member of staff's reply.
    CONTACT_REPLY = "contact_reply"
    # To the unit's own mailbox (CONTACT_UNIT_EMAIL): a new message is in the contact inbox.
    CONTACT_NOTICE = "contact_notice"
    # A reader's message relayed to a case study's contact (a delivery with an enquiry_id).
    CASE_STUDY_ENQUIRY = "case_study_enquiry"
    # To a case study's submitter: a link to their draft, changes staff ask for, and the
    # outcome of the review.
    CASE_STUDY_LINK = "case_study_link"
    CASE_STUDY_CHANGES = "case_study_changes"
    CASE_STUDY_PUBLISHED = "case_study_published"
    CASE_STUDY_REJECTED = "case_study_rejected"


class StaffRole(enum.StrEnum):
    EDITOR = "editor"
    ADMIN = "admin"


class NewsState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class BulletinState(enum.StrEnum):
    DRAFT = "draft"
    # Under the two-person rule: written and waiting for a second member of staff.
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    # Its send run is made: the run says how far the sending has got.
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Accepted by the relay, then returned by the receiving server.
    BOUNCED = "bounced"


class SuppressionReason(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCES = "soft_bounces"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    # The subscriber was erased: only this entry remembers the address, so that no import
    # mails it again. A fresh sign-up and confirmation takes it off.
    ERASED = "erased"


class BounceKind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    # A message to the unsubscribe address of List-Unsubscribe.
    UNSUBSCRIBE = "unsubscribe"


class RunState(enum.StrEnum):
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class Nation(enum.StrEnum):
    ENGLAND = "england"
    WALES = "wales"


class OrganisationType(enum.StrEnum):
    """Who a subscriber works for, if they say."""

    POLICE = "police"
    COUNCIL = "council"
    FIRE = "fire-and-rescue"
    HEALTH = "health"
    PROBATION = "probation"
    VOLUNTARY = "voluntary-sector"
    OTHER = "other"


class CspStatus(enum.StrEnum):
    ACTIVE = "active"
    # No longer in the ONS list: merged into its successor, or gone.
    ENDED = "ended"


class SuggestionStatus(enum.StrEnum):
    # Sent by someone from a partnership's page, waiting for staff.
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CaseStudyState(enum.StrEnum):
    # Being written by the submitter, who returns to it by an emailed link.
    DRAFT = "draft"
    # Sent to staff, waiting in the review queue.
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    # Sent back with notes; the submitter edits it and submits it again.
    CHANGES_REQUESTED = "changes_requested"
    PUBLISHED = "published"
    REJECTED = "rejected"


class CaseStudyRating(enum.StrEnum):
    # What the evidence says, as the submitter rates it and staff check it.
    WORKED = "worked"
    PROMISING = "promising"
    UNTESTED = "untested"
    DID_NOT_WORK = "did_not_work"


class ContactStatus(enum.StrEnum):
    # A message sent through the contact form, waiting for staff.
    NEW = "new"
    # Staff replied by email.
    ANSWERED = "answered"
    # Staff dealt with it without a reply (spam, a duplicate, nothing to answer).
    CLOSED = "closed"
