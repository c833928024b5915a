"""Storage: typed SQLAlchemy models and the enums of their states, one module per part of
the service; everything is importable from here."""

from __future__ import annotations

from mailer.models.columns import UTCDateTime
from mailer.models.contact import ContactMessage
from mailer.models.contact import ContactReply
from mailer.models.directory import Council
from mailer.models.directory import Csp
from mailer.models.directory import CspSuggestion
from mailer.models.directory import PoliceForceArea
from mailer.models.directory import csp_councils
from mailer.models.directory import subscriber_areas
from mailer.models.news import Bulletin
from mailer.models.news import BulletinItem
from mailer.models.news import NewsItem
from mailer.models.news import bulletin_topics
from mailer.models.news import news_item_topics
from mailer.models.practice import CaseStudy
from mailer.models.practice import CaseStudyAttachment
from mailer.models.practice import CaseStudyEnquiry
from mailer.models.practice import CaseStudyTag
from mailer.models.practice import CaseStudyVersion
from mailer.models.sending import BounceEvent
from mailer.models.sending import Delivery
from mailer.models.sending import DeliverySummary
from mailer.models.sending import InboundMessage
from mailer.models.sending import SendRun
from mailer.models.staff import ApiKey
from mailer.models.staff import AuditEvent
from mailer.models.staff import StaffUser
from mailer.models.states import DATA_COPY_RECIPIENTS
from mailer.models.states import BounceKind
from mailer.models.states import BulletinState
from mailer.models.states import CaseStudyRating
from mailer.models.states import CaseStudyState
from mailer.models.states import ConsentAction
from mailer.models.states import ContactStatus
from mailer.models.states import CspStatus
from mailer.models.states import DeliveryStatus
from mailer.models.states import Frequency
from mailer.models.states import MessageKind
from mailer.models.states import Nation
from mailer.models.states import NewsState
from mailer.models.states import OrganisationType
from mailer.models.states import RunState
from mailer.models.states import StaffRole
from mailer.models.states import SubscriberStatus
from mailer.models.states import SuggestionStatus
from mailer.models.states import SuppressionReason
from mailer.models.subscribers import ConsentEvent
from mailer.models.subscribers import LeavingReason
from mailer.models.subscribers import Subscriber
from mailer.models.subscribers import SubscriberImport
from mailer.models.subscribers import Subscription
from mailer.models.subscribers import Suppression
from mailer.models.subscribers import Topic
from mailer.models.tallies import HourlySends
from mailer.models.tallies import RunSends

__all__ = [
    "ApiKey",
    "AuditEvent",
    "BounceEvent",
    "BounceKind",
    "Bulletin",
    "BulletinItem",
    "BulletinState",
    "bulletin_topics",
    "CaseStudy",
    "CaseStudyAttachment",
    "CaseStudyEnquiry",
    "CaseStudyRating",
    "CaseStudyState",
    "CaseStudyTag",
    "CaseStudyVersion",
    "ConsentAction",
    "ConsentEvent",
    "ContactMessage",
    "ContactReply",
    "ContactStatus",
    "Council",
    "Csp",
    "csp_councils",
    "CspStatus",
    "CspSuggestion",
    "DATA_COPY_RECIPIENTS",
    "Delivery",
    "DeliveryStatus",
    "DeliverySummary",
    "Frequency",
    "HourlySends",
    "InboundMessage",
    "LeavingReason",
    "MessageKind",
    "Nation",
    "news_item_topics",
    "NewsItem",
    "NewsState",
    "OrganisationType",
    "PoliceForceArea",
    "RunSends",
    "RunState",
    "SendRun",
    "StaffRole",
    "StaffUser",
    "subscriber_areas",
    "Subscriber",
    "SubscriberImport",
    "SubscriberStatus",
    "Subscription",
    "SuggestionStatus",
    "Suppression",
    "SuppressionReason",
    "Topic",
    "UTCDateTime",
]
