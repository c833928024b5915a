"""Topics from the command line: list them, add one, retire one."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from mailer import clock
from mailer.database import read_only
from mailer.database import transaction
from mailer.domain import topics
from mailer.domain.topic_reports import all_summaries
from mailer.domain.topic_retirement import retire_topic

ACTOR = "cli"


@click.command("topics-list")
@with_appcontext
def topics_list() -> None:
    """List every topic with its heading, active subscribers and state."""
    with read_only():
        summaries = all_summaries()
    if not summaries:
        click.echo("There are no topics. Add one with: mailer topic-add NAME")
    for summary in summaries:
        topic = summary.topic
        state = f"retired {topic.retired_at:%Y-%m-%d}" if topic.retired_at else "current"
        if summary.successor is not None:
            state += f", moved to {summary.successor.slug}"
        counts = ", ".join(f"{count} {f.value}" for f, count in summary.by_frequency.items())
        heading = topic.heading or "-"
        click.echo(f"{topic.slug}\t{topic.name}\t{heading}\t{counts}\t{state}")


@click.command("topic-add")
@click.argument("name")
@click.option("--description", default="", help="The hint shown under it on the sign-up form.")
@click.option("--heading", default="", help='The group it is listed under, e.g. "Crime types".')
@click.option("--slug", default="", help="Its address; made from the name if left out.")
@with_appcontext
def topic_add(name: str, description: str, heading: str, slug: str) -> None:
    """Add a topic at the end of the list."""
    with transaction():
        fields = topics.validate_topic(
            name=name, description=description, slug=slug, heading=heading
        )
        topic = topics.create_topic(fields, actor=ACTOR, now=clock.now())
    click.echo(f"Added the topic {topic.name} ({topic.slug}).")


@click.command("topic-retire")
@click.argument("slug")
@click.option("--move-to", "move_to", default=None, help="Move its subscribers to this topic.")
@click.option("--tell", is_flag=True, help="Email each subscriber that the topic has ended.")
@with_appcontext
def topic_retire(slug: str, move_to: str | None, tell: bool) -> None:
    """Retire a topic: it leaves the sign-up form; its page, feed and news stay."""
    with transaction():
        topic = topics.topic_by_slug(slug, lock=True)
        if topic is None:
            raise click.ClickException(f"there is no topic {slug}")
        successor = topics.topic_by_slug(move_to) if move_to else None
        if move_to and successor is None:
            raise click.ClickException(f"there is no topic {move_to} to move them to")
        done = retire_topic(topic, move_to=successor, tell=tell, actor=ACTOR, now=clock.now())
    click.echo(f"Retired {slug}: moved {done.moved} subscribers, queued {done.told} emails.")


COMMANDS = (topics_list, topic_add, topic_retire)
