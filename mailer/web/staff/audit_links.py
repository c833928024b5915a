"""Where the thing an audit event is about can be seen in the staff area."""

from __future__ import annotations

from typing import Any

from flask import url_for

from mailer.domain.audit_words import Sentence
from mailer.models import ApiKey
from mailer.models import Bulletin
from mailer.models import CaseStudy
from mailer.models import ContactMessage
from mailer.models import Csp
from mailer.models import CspSuggestion
from mailer.models import InboundMessage
from mailer.models import NewsItem
from mailer.models import SendRun
from mailer.models import StaffUser
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import Suppression
from mailer.models import Topic

# Each kind of thing: the page it is shown on, and the URL arguments taken from it.
PAGES: dict[type[Any], tuple[str, Any]] = {
    NewsItem: ("staff.news.item", lambda r: {"item_id": r.id}),
    Bulletin: ("staff.bulletins.bulletin", lambda r: {"bulletin_id": r.id}),
    SendRun: ("staff.runs.run", lambda r: {"run_id": r.id}),
    Subscriber: ("staff.subscribers.subscriber", lambda r: {"subscriber_id": r.id}),
    Topic: ("staff.topics.edit_topic", lambda r: {"slug": r.slug}),
    CaseStudy: ("staff.case_studies.case_study", lambda r: {"case_study_id": r.id}),
    Csp: ("staff.csps.edit", lambda r: {"code": r.code}),
    CspSuggestion: ("staff.csps.review", lambda r: {"suggestion_id": r.id}),
    StaffUser: ("staff.admin.users", lambda r: {}),
    ApiKey: ("staff.admin.api_keys", lambda r: {}),
    SubscriberImport: ("staff.imports.import_report", lambda r: {"import_id": r.id}),
    InboundMessage: ("staff.deliverability.inbound_message", lambda r: {"message_id": r.id}),
    Suppression: ("staff.deliverability.suppression_list", lambda r: {}),
    ContactMessage: ("staff.contact.message", lambda r: {"message_id": r.id}),
}


def target_url(sentence: Sentence) -> str | None:
    """The page of the thing a sentence is about, or None if it is gone or has none."""
    if sentence.record is None:
        return None
    page = PAGES.get(type(sentence.record))
    if page is None:
        return None
    endpoint, arguments = page
    return url_for(endpoint, **arguments(sentence.record))
