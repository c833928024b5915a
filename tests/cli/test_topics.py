"""The topic commands: list, add and retire, as an operator runs them."""

from __future__ import annotations

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import Topic
from tests import TODAY
from tests.factories import add_readers


def test_topic_add_then_list_shows_it_under_its_heading(app, runner):
    added = runner.invoke(
        args=[
            "topic-add",
            "Crime types",
            "--description",
            "Burglary and fraud",
            "--heading",
            "Crime",
        ]
    )
    assert (added.exit_code, added.output) == (0, "Added the topic Crime types (crime-types).\n")
    listed = runner.invoke(args=["topics-list"])
    assert listed.exit_code == 0
    assert (
        "crime-types\tCrime types\tCrime\t0 immediate, 0 daily, 0 weekly\tcurrent\n"
        in listed.output
    )


def test_topic_add_refuses_bad_input_with_the_reason(runner):
    result = runner.invoke(args=["topic-add", "Events"])
    assert result.exit_code == 1
    assert "There is already a topic called Events" in result.output
    newline = runner.invoke(args=["topic-add", "Two\nlines"])
    assert "Name must be on one line" in newline.output


def test_topic_retire_moves_and_counts(app, runner):
    with app.app_context():
        add_readers(2, follows={"events": Frequency.DAILY}, now=TODAY)
        db.session.commit()
    result = runner.invoke(args=["topic-retire", "events", "--move-to", "funding"])
    assert (result.exit_code, result.output) == (
        0,
        "Retired events: moved 2 subscribers, queued 0 emails.\n",
    )
    assert "retired" in runner.invoke(args=["topics-list"]).output
    again = runner.invoke(args=["topic-retire", "events"])
    assert again.exit_code == 1
    assert "Events has already been retired" in again.output
    missing = runner.invoke(args=["topic-retire", "funding", "--move-to", "nope"])
    assert "there is no topic nope" in missing.output
    with app.app_context():
        assert db.session.scalar(select(Topic.retired_at).where(Topic.slug == "funding")) is None
