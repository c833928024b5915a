"""The audit log in plain English: who did what to which thing, as a sentence staff can read."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailer.extensions import db
from mailer.models import ApiKey
from mailer.models import AuditEvent
from mailer.models import Bulletin
from mailer.models import CaseStudy
from mailer.models import ContactMessage
from mailer.models import Csp
from mailer.models import CspSuggestion
from mailer.models import Frequency
from mailer.models import InboundMessage
from mailer.models import NewsItem
from mailer.models import SendRun
from mailer.models import StaffUser
from mailer.models import Subscriber
from mailer.models import SubscriberImport
from mailer.models import Suppression
from mailer.models import Topic

# What each action did, as the rest of a sentence after who did it. "{target}" is where the
# thing goes (a link on the page); the other names in braces come from the event's detail.
# Every action the code records has words here; tests/domain/test_audit_words.py checks.
ACTIONS: dict[str, str] = {
    "created": "created {target}",
    "created:NewsItem": "wrote the draft {target}",
    "created:StaffUser": "added the staff account {target}",
    "created:ApiKey": "created the API key {target}",
    "created:Topic": "added the topic {target}",
    "edited": "edited {target}",
    "edited:Topic": "edited the topic {target}",
    "scheduled": "scheduled {target} to be published {publish_at}",
    "published": "published {target}",
    "withdrew": "withdrew {target}",
    "applies to": "changed where {target} applies",
    "moved": "moved the topic {target} {direction}",
    "retired": "retired the topic {target}",
    "locked": "locked the account {target} after too many wrong passwords",
    "changed access": "changed the access of {target} to {role}",
    "revoked": "revoked the API key {target}",
    "invited": "invited {target} to be {role}",
    "sent an invitation": "sent an invitation email to {target}",
    "set a password": "set the password of {target}",
    "turned on a second factor": "turned on an authenticator app for {target}",
    "turned off the second factor": "turned off the authenticator app of {target}",
    "changed topics": "changed the topics of {target}",
    "sent a manage link": "sent {target} a link to manage their subscription",
    "subscriber.erase": "erased {target}",
    "subscriber.access_export": "downloaded all the data held about {target}",
    "subscribers.export": "downloaded a list of subscribers",
    "subscribers.import_upload": "uploaded {target}",
    "subscribers.import_discard": "discarded {target}",
    "suppression.add": "added {target} to the suppression list",
    "suppression.remove": "took {target} off the suppression list",
    "inbound.handled": "marked {target} as dealt with",
    "bulletin.create": "started writing the bulletin {target}",
    "bulletin.edit": "edited the bulletin {target}",
    "bulletin.submit": "asked another member of staff to approve {target}",
    "bulletin.approve": "approved {target}",
    "bulletin.send": "sent {target} to {to}",
    "bulletin.schedule": "scheduled {target} to be sent {at}",
    "bulletin.cancel": "cancelled the scheduled sending of {target}",
    "bulletin.test": "sent a test copy of {target} to {to}",
    "run.create": "started sending {target} to {recipients}",
    "run.pause": "paused {target}",
    "run.resume": "resumed {target}",
    "run.cancel": "cancelled {target}",
    "send_csp_link": "sent {target} a link to update its entry",
    "remind_csp": "reminded {target} to check its entry",
    "edit_csp_contact": "changed the contact details of {target}",
    "suggest_csp_correction": "suggested {target}",
    "approve_csp_suggestion": "accepted {target}",
    "reject_csp_suggestion": "turned down {target}",
    "load_csps": "loaded a new edition of the CSP directory",
    "case_study.start": "started a case study, {target}",
    "case_study.submit": "sent {target} for review (version {version})",
    "case_study.review": "started reviewing {target}",
    "case_study.changes": "asked for changes to {target}",
    "case_study.reject": "rejected {target}",
    "case_study.publish": "published the case study {target}",
    "case_study.announce": "published news about {target} for the topic Effective practice",
    "deliveries.summarise": "summarised and removed old records of emails sent",
    "contact.receive": "sent {target} through the contact form",
    "contact.reply": "replied by email to {target}",
    "contact.close": "closed {target} without a reply",
    "contact.delete_handled": "deleted {deleted} contact messages answered or closed long ago",
}

# Who acted, when it was not a member of staff: the start of the actor string, in words.
ACTORS = {
    "cli": "Someone at the command line",
    "scheduler": "The scheduler",
    "retention": "The clear-out of old data",
    "login": "The sign-in check",
    "public": "A member of the public",
    "subscriber": "The subscriber",
    "partnership": "The partnership",
    "submitter": "The submitter",
    "api": "The API key",
}

MODELS: dict[str, type[Any]] = {
    model.__name__: model
    for model in (
        ApiKey,
        Bulletin,
        ContactMessage,
        CaseStudy,
        Csp,
        CspSuggestion,
        InboundMessage,
        NewsItem,
        SendRun,
        StaffUser,
        Subscriber,
        SubscriberImport,
        Suppression,
        Topic,
    )
}


@dataclass(frozen=True)
class Sentence:
    """One event in words: who, what before the thing, the thing, and what comes after it."""

    event: AuditEvent
    who: str
    before: str
    target: str | None
    after: str
    # The thing itself, for a link to it; None when it is gone.
    record: Any = None

    @property
    def text(self) -> str:
        """The whole sentence as plain text."""
        middle = f"‘{self.target}’" if self.target else ""
        return f"{self.who} {self.before}{middle}{self.after}".replace("  ", " ").strip()


def describe_events(events: list[AuditEvent] | Any, *, zone: str) -> list[Sentence]:
    """Each event as a sentence, naming the thing it was about as it is called now."""
    return [describe(event, zone=zone) for event in events]


def describe(event: AuditEvent, *, zone: str) -> Sentence:
    """One event as a sentence; an action without words here keeps its code."""
    words = ACTIONS.get(f"{event.action}:{event.target_type}") or ACTIONS.get(event.action)
    if words is None:
        words = event.action.replace("_", " ").replace(".", " ") + " {target}"
    filled = words.format_map(_Detail(event.detail or {}, zone))
    before, found, after = filled.partition("{target}")
    record = _target(event) if found else None
    target = None if record is None else name_of(record, zone=zone)
    if found and target is None:
        before += _kind(event)
    return Sentence(event, actor_words(event.actor), before, target, after, record)


def actor_words(actor: str) -> str:
    """ "staff:3 ann.smith@example.gov.uk" as "Ann Smith (ann.smith@example.gov.uk)"."""
    kind, _, rest = actor.partition(":")
    if kind == "staff":
        email = rest.partition(" ")[2]
        return f"{_name_of(email)} ({email})" if email else "A member of staff"
    if kind == "api":
        name = rest.partition(" ")[2]
        return f"The API key ‘{name}’" if name else "An API key"
    return ACTORS.get(kind, actor[:1].upper() + actor[1:])


def _name_of(email: str) -> str:
    local = email.partition("@")[0]
    parts = [part for part in re.split(r"[._-]+", local) if part and not part.isdigit()]
    return " ".join(part.capitalize() for part in parts) or email


def _kind(event: AuditEvent) -> str:
    """A thing that is gone, or a kind of record as a whole."""
    names = {
        "Subscriber": "a subscriber no longer on record",
        "SendRun": "a send run",
        "StaffUser": "a staff account",
        "Suppression": "an address since taken off the list",
        "ContactMessage": "a contact message since deleted",
    }
    return names.get(event.target_type, f"a record that is no longer kept ({event.target_type})")


def _target(event: AuditEvent) -> Any:
    """The thing an event is about, or None if it is gone or is a kind of record."""
    model = MODELS.get(event.target_type)
    if model is None or event.target_id is None:
        return None
    return db.session.get(model, event.target_id)


# Things whose name is one of their fields, in words.
NAMES: dict[type[Any], Callable[[Any], str]] = {
    CaseStudy: lambda study: study.title or f"an untitled case study (#{study.id})",
    ContactMessage: lambda message: f"the message from {message.name}",
    StaffUser: lambda user: str(user.email),
    Suppression: lambda entry: str(entry.email),
}


def name_of(found: Any, *, zone: str) -> str | None:
    """A record's name as staff know it."""
    named = NAMES.get(type(found))
    if named is not None:
        return named(found)
    if isinstance(found, NewsItem):
        return found.title
    if isinstance(found, Bulletin):
        return found.subject
    if isinstance(found, SendRun):
        return run_name(found, zone=zone)
    if isinstance(found, Subscriber):
        return found.email or f"erased subscriber #{found.id}"
    if isinstance(found, SubscriberImport):
        return f"the subscriber import {found.filename}"
    if isinstance(found, CspSuggestion):
        return f"a correction to {found.csp.name}"
    if isinstance(found, InboundMessage):
        return f"the unreadable email from {found.mail_from or 'an unknown sender'}"
    return getattr(found, "name", None)


def run_name(run: SendRun, *, zone: str) -> str:
    """ "Daily digest of Wednesday 25 November 2026", "Alert: <title>", "Bulletin: <subject>"."""
    if run.bulletin is not None:
        return f"Bulletin: {run.bulletin.subject}"
    if run.frequency is Frequency.IMMEDIATE:
        return f"Alert: {run.news_item.title if run.news_item else 'a deleted news item'}"
    return f"{run.frequency.value.capitalize()} digest of {_day(run.period_end, zone)}"


def _day(at: datetime | None, zone: str) -> str:
    if at is None:
        return "an unknown day"
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B %Y}"


class _Detail(dict[str, str]):
    """The event's detail as words for the sentence; what is missing is left out."""

    def __init__(self, detail: dict[str, Any], zone: str) -> None:
        super().__init__()
        self.detail, self.zone = detail, zone

    def __missing__(self, key: str) -> str:
        if key == "target":
            return "{target}"
        value = self.detail.get(key)
        if key in ("at", "publish_at") and isinstance(value, str):
            return _when(value, self.zone)
        if key in ("to", "recipients") and isinstance(value, int):
            return f"{value:,} {'person' if value == 1 else 'people'}"
        if key == "role" and isinstance(value, str):
            article = "an" if value[:1] in "aeiou" else "a"
            words = f"{article} {value}"
            return words if self.detail.get("active", True) else f"{words}, and turned it off"
        if key == "direction":
            return f"{value} the list" if value else "in the list"
        return str(value) if value is not None else "(not recorded)"


def _when(iso: str, zone: str) -> str:
    try:
        at = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone))
    except ValueError:
        return iso
    hour = at.hour % 12 or 12
    minutes = "" if at.minute == 0 else f":{at.minute:02d}"
    return f"for {at.day} {at:%B %Y} at {hour}{minutes}{'am' if at.hour < 12 else 'pm'}"
