"""The audit log in words: every action the code records reads as a sentence."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

from mailer.domain import audit
from mailer.domain.audit_words import ACTIONS
from mailer.domain.audit_words import actor_words
from mailer.domain.audit_words import describe
from mailer.domain.periods import Schedule
from mailer.domain.send_runs import MOVES
from mailer.domain.send_runs import make_digest_run
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Frequency
from tests import TODAY
from tests.factories import publish_news

MAILER = Path(__file__).resolve().parents[2] / "mailer"
ZONE = "Europe/London"
ANN = "staff:3 ann@example.gov.uk"


def _recorded_actions() -> set[str]:
    """Every action string passed to audit.record anywhere in mailer/."""
    found: set[str] = set()
    for path in MAILER.rglob("*.py"):
        tree = ast.parse(path.read_text())
        strings = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "record"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "audit"
            ):
                continue
            action = call.args[1]
            if isinstance(action, ast.Constant):
                found.add(action.value)
            elif isinstance(action, ast.JoinedStr):
                # f"run.{action}": one for each move a run can make.
                found.update(f"run.{move}" for move in MOVES)
            else:
                # A name chosen from literals in the same module ("approve_…" or "reject_…").
                found.update(s for s in strings if s.endswith("_csp_suggestion"))
    return found


def test_every_action_the_code_records_has_words():
    actions = _recorded_actions()
    assert len(actions) > 40
    missing = sorted(a for a in actions if a not in ACTIONS)
    assert missing == [], f"these audit actions have no words in audit_words.ACTIONS: {missing}"


def test_actors_are_named_in_words():
    assert actor_words(ANN) == "Ann (ann@example.gov.uk)"
    assert actor_words("staff:4 ann.smith@example.gov.uk") == (
        "Ann Smith (ann.smith@example.gov.uk)"
    )
    assert actor_words("scheduler") == "The scheduler"
    assert actor_words("api:7 website-cms") == "The API key ‘website-cms’"
    assert actor_words("cli") == "Someone at the command line"


def test_publishing_reads_as_who_published_what(app):
    with app.app_context():
        item = publish_news("Serious violence duty guidance", at=TODAY)
        audit.record(ANN, "published", item, now=TODAY)
        event = db.session.scalars(db.select(AuditEvent)).one()
        sentence = describe(event, zone=ZONE)
        assert (
            sentence.text == "Ann (ann@example.gov.uk) published ‘Serious violence duty guidance’"
        )
        assert sentence.record is item


def test_the_scheduler_starting_a_digest_names_the_day(app):
    end = datetime(2026, 11, 25, 7, 0, tzinfo=TODAY.tzinfo)
    with app.app_context():
        period = Schedule.from_config(app.config).period_ending(Frequency.DAILY, end)
        make_digest_run(Frequency.DAILY, period, actor="scheduler", now=TODAY)
        event = db.session.scalars(db.select(AuditEvent)).one()
        assert describe(event, zone=ZONE).text == (
            "The scheduler started sending ‘Daily digest of Wednesday 25 November 2026’ to 0 people"
        )


def test_scheduling_says_when_in_uk_time(app):
    with app.app_context():
        item = publish_news("Funding", at=TODAY)
        detail = {"publish_at": "2026-12-01T09:30:00+00:00"}
        audit.record(ANN, "scheduled", item, now=TODAY, detail=detail)
        event = db.session.scalars(db.select(AuditEvent)).one()
        assert describe(event, zone=ZONE).text == (
            "Ann (ann@example.gov.uk) scheduled ‘Funding’ to be published"
            " for 1 December 2026 at 9:30am"
        )


def test_a_thing_since_deleted_is_described_without_a_link(app):
    with app.app_context():
        db.session.add(
            AuditEvent(
                at=TODAY,
                actor=ANN,
                action="subscriber.erase",
                target_type="Subscriber",
                target_id=999,
                detail={},
            )
        )
        db.session.flush()
        event = db.session.scalars(db.select(AuditEvent)).one()
        sentence = describe(event, zone=ZONE)
        assert sentence.text == ("Ann (ann@example.gov.uk) erased a subscriber no longer on record")
        assert sentence.record is None
