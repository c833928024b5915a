"""Sending: make and send runs, watch and steer them, and the queue's job twins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from mailer import clock
from mailer import jobs
from mailer.cli.common import app_object
from mailer.database import transaction
from mailer.delivery import queue
from mailer.delivery.worker import Worker
from mailer.delivery.worker import worker_from_config
from mailer.domain import periods
from mailer.domain import run_counts
from mailer.domain import send_runs
from mailer.errors import InvalidInput
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import SendRun


@click.command("send-due")
@click.option("--wait", is_flag=True, help="Send the runs to the end before returning.")
@with_appcontext
def send_due(wait: bool) -> None:
    """Make every send run that is due now: alerts of newly published items and digests
    whose period has ended. With --wait, also send them, showing progress."""
    # Built first, so that a key that cannot sign stops us before any run is made.
    sender = worker_from_config(current_app.config) if wait else None
    made = jobs.make_due_runs(current_app._get_current_object(), actor="cli")  # type: ignore[attr-defined]
    if not made:
        click.echo("No run is due.")
    for run in made:
        click.echo(_describe(run))
    if sender:
        _send(made, sender)


@click.command("send-digest")
@click.option(
    "--frequency", type=click.Choice(["daily", "weekly"]), required=True, help="Which digest."
)
@click.option(
    "--period-end",
    help="When the period ends (ISO 8601, e.g. 2026-11-25T07:00:00+00:00); default: the "
    "latest scheduled end.",
)
@click.option("--wait", is_flag=True, help="Send the run to the end before returning.")
@with_appcontext
def send_digest(frequency: str, period_end: str | None, wait: bool) -> None:
    """Make the digest run of the period that ends at --period-end, unless it exists (re-run
    a missed digest); with --wait, send it too."""
    schedule = periods.Schedule.from_config(current_app.config)
    sender = worker_from_config(current_app.config) if wait else None
    chosen = Frequency(frequency)
    now = clock.now()
    try:
        end = _parse_end(period_end) if period_end else schedule.latest_end(chosen, now)
        if end > now:
            raise InvalidInput("period_end", f"the period ending {end.isoformat()} has not ended")
        period = schedule.period_ending(chosen, end)
    except InvalidInput as error:
        raise click.BadParameter(error.message, param_hint="--period-end") from None
    with transaction():
        run, created = send_runs.make_digest_run(chosen, period, actor="cli", now=now)
    click.echo(_describe(run) if created else f"Already made: {_describe(run)}")
    if sender:
        _send([run], sender)


@click.group("runs", invoke_without_command=True)
@click.pass_context
@with_appcontext
def runs(context: click.Context) -> None:
    """List recent send runs, or pause, resume or cancel one."""
    if context.invoked_subcommand is not None:
        return
    recent = send_runs.recent_runs(limit=30)
    if not recent:
        click.echo("No send runs yet.")
        return
    counts = run_counts.status_counts([run.id for run in recent])
    click.echo(f"{'ID':>6}  {'STATE':9}  {'SENT':>8}  {'QUEUED':>8}  {'FAILED':>6}  RUN")
    for run in recent:
        count = counts[run.id]
        waiting = count["queued"] + count["sending"]
        click.echo(
            f"{run.id:>6}  {run.state.value:9}  {count['sent']:>8}  {waiting:>8}  "
            f"{count['failed']:>6}  {run.key}"
        )


def _state_command(action: str) -> click.Command:
    @click.command(action, help=f"{action.capitalize()} run ID.")
    @click.argument("run_id", type=int)
    @with_appcontext
    def command(run_id: int) -> None:
        with transaction():
            run = send_runs.run_by_id(run_id, lock=True)
            if run is None:
                raise click.ClickException(f"no run with id {run_id}")
            send_runs.change_state(run, action, actor="cli", now=clock.now())
        click.echo(f"Run {run.id} is {run.state.value}.")

    return command


for _action in send_runs.MOVES:
    runs.add_command(_state_command(_action))


def _parse_end(text: str) -> datetime:
    """An ISO 8601 instant with its offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("period_end", f"{text!r} is not an ISO 8601 date and time") from None
    if value.tzinfo is None:
        raise InvalidInput("period_end", f"{text!r} has no UTC offset (add Z or +01:00)")
    try:
        return clock.as_utc(value)
    except OverflowError:
        raise InvalidInput("period_end", f"{text!r} is out of range") from None


def _describe(run: SendRun) -> str:
    return f"Run {run.id} ({run.key}): {run.recipients} recipients, {run.state.value}."


def _send(made: Sequence[SendRun], sender: Worker) -> None:
    """Send until the runs have nothing left that is due, with a progress bar."""
    ids = [run.id for run in made]
    total = sum(run.recipients for run in made)
    left = send_runs.outstanding(ids)
    with tqdm(total=total, initial=total - left, unit="msg", desc="Sending") as bar:
        try:
            while sender.process_batch():
                bar.update(total - send_runs.outstanding(ids) - bar.n)
        finally:
            sender.pool.shutdown()
        with transaction():
            queue.finish_runs(now=clock.now())
        bar.update(total - send_runs.outstanding(ids) - bar.n)
    left = send_runs.outstanding(ids)
    db.session.commit()
    click.echo(f"Worker finished: {sender.stats}.")
    if left:
        click.echo(f"{left} messages wait for a retry; a running worker will send them.")


@click.command("release-leases")
@with_appcontext
def release_leases() -> None:
    """Put deliveries held by crashed workers back in the queue (a job's twin)."""
    count = jobs.release_stale_leases(app_object())
    click.echo(f"Released {count} stale leases.")


@click.command("publish-due")
@with_appcontext
def publish_due() -> None:
    """Publish the scheduled news items whose time has come (a job's twin)."""
    count = jobs.publish_due(app_object())
    click.echo(f"Published {count} scheduled items.")


@click.command("send-bulletins")
@with_appcontext
def send_bulletins() -> None:
    """Send the scheduled bulletins whose time has come (a job's twin)."""
    count = jobs.send_due_bulletins(app_object())
    click.echo(f"Sent {count} scheduled bulletins.")


COMMANDS = (
    send_due,
    send_digest,
    runs,
    publish_due,
    send_bulletins,
    release_leases,
)
