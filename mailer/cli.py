"""The `mailer` command: Flask's commands plus worker, outbox, dev and the job twins."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import with_appcontext

from config import ConfigError
from mailer import cli_bounces
from mailer import cli_dkim
from mailer import cli_export
from mailer import cli_import
from mailer import cli_privacy
from mailer import cli_retention
from mailer import cli_runs
from mailer import clock
from mailer import jobs
from mailer.database import transaction
from mailer.delivery.dkim import DkimKeyError
from mailer.delivery.worker import worker_from_config
from mailer.domain import staff
from mailer.domain import subscriptions
from mailer.domain.topics import seed_topics
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.models import StaffRole

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _create_app() -> Flask:
    from mailer.app import create_app

    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    help="The CSP news mailer. Settings come from MAILER_* environment variables.",
)


def main() -> None:
    """Entry point of the `mailer` console script."""
    try:
        # Check the settings first, so that every command (and --help) fails the same clear way.
        _create_app()
        cli.main()
    except (ConfigError, DkimKeyError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    finally:
        _cancel_timers()


def _cancel_timers() -> None:
    """Stop the timers left running, so that a command that has finished exits at once.

    The rate limiter's in-memory store keeps a timer thread that is not a daemon and re-arms
    itself; the interpreter would otherwise wait on it at exit.
    """
    for _ in range(100):
        timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
        if not timers:
            return
        for timer in timers:
            timer.cancel()
            timer.join(timeout=1)


def init_app(app: Flask) -> None:
    """Register the service's own commands on the app's CLI group."""
    for command in (
        worker,
        outbox,
        dev,
        seed_topics_command,
        scheduler_command,
        purge_unconfirmed,
        publish_due,
        create_staff,
        create_api_key,
        revoke_links,
        release_leases,
        seed_demo_command,
        cli_runs.send_due,
        cli_runs.send_digest,
        cli_runs.runs,
        cli_bounces.bounce_inbox,
        cli_dkim.dkim_keygen,
        cli_import.import_subscribers,
        cli_retention.retention,
        cli_export.export_subscribers,
        cli_privacy.subject_access_command,
        cli_privacy.erase_subscriber,
    ):
        app.cli.add_command(command)


def _app() -> Flask:
    """The real app object behind `current_app`, for threads and jobs that outlive the context."""
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # aiosmtpd logs every SMTP command at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


@click.command()
@click.option("--once", is_flag=True, help="Send everything due now, then exit.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="SMTP connections kept busy at once (default: MAILER_WORKER_CONCURRENCY).",
)
@with_appcontext
def worker(once: bool, concurrency: int | None) -> None:
    """Send queued emails over SMTP, until stopped (or with --once, until none is due)."""
    _logging()
    sender = worker_from_config(current_app.config, concurrency=concurrency)
    if once:
        stats = sender.run_once()
        click.echo(f"Worker finished: {stats}.")
        return
    click.echo(f"Worker {sender.owner} sending; Ctrl-C stops it.")
    with _stop_on_signals() as stop:
        sender.run_forever(stop)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: MAILER_SMTP_PORT.")
@with_appcontext
def outbox(host: str, port: int | None) -> None:
    """Run the development outbox: an SMTP server that keeps every message it receives."""
    from mailer.servers.outbox import start_outbox

    _logging()
    port = port or int(current_app.config["SMTP_PORT"])
    controller = start_outbox(current_app.config["OUTBOX_DIR"], host=host, port=port)
    click.echo(
        f"Outbox listening on {host}:{port}, keeping mail in "
        f"{current_app.config['OUTBOX_DIR']}; Ctrl-C stops it."
    )
    with _stop_on_signals() as stop:
        stop.wait()
    controller.stop()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Web server address.")
@click.option("--port", type=int, default=5000, show_default=True, help="Web server port.")
@click.option("--no-outbox", is_flag=True, help="Do not start the local outbox SMTP server.")
@with_appcontext
def dev(host: str, port: int, no_outbox: bool) -> None:
    """Run everything for development: web app, worker, scheduler and outbox, until Ctrl-C."""
    from mailer.servers.dev import run_dev

    _logging()
    run_dev(_app(), host=host, port=port, outbox=not no_outbox)


@click.command("seed-topics")
@with_appcontext
def seed_topics_command() -> None:
    """Create the demo topics (funding, events, ...) that do not exist yet."""
    with transaction():
        added = seed_topics()
    click.echo(f"Added {added} topics.")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs in the foreground (same as `python scheduler.py`)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    _logging()
    app = _app()
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    jobs.add_jobs(scheduler, app)
    click.echo("Scheduler running; Ctrl-C stops it.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


@click.command("purge-unconfirmed")
@with_appcontext
def purge_unconfirmed() -> None:
    """Delete sign-ups never confirmed within MAILER_UNCONFIRMED_RETENTION_DAYS (a job's twin)."""
    count = jobs.purge_unconfirmed(_app())
    click.echo(f"Purged {count} unconfirmed sign-ups.")


@click.command("release-leases")
@with_appcontext
def release_leases() -> None:
    """Put deliveries held by crashed workers back in the queue (a job's twin)."""
    count = jobs.release_stale_leases(_app())
    click.echo(f"Released {count} stale leases.")


@click.command("publish-due")
@with_appcontext
def publish_due() -> None:
    """Publish the scheduled news items whose time has come (a job's twin)."""
    count = jobs.publish_due(_app())
    click.echo(f"Published {count} scheduled items.")


@click.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_staff(email: str, role: str, password_stdin: bool) -> None:
    """Add a staff account (asks for the password twice unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction():
            user = staff.create_staff(
                email, password, role=StaffRole(role), actor="cli", now=clock.now()
            )
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Added {user.email} as {user.role.value}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Publish the nine news items of the CSP page, at their dates, unless already there."""
    from mailer.domain.demo import seed_demo

    try:
        with transaction():
            added = seed_demo(actor="cli", now=clock.now())
    except FieldErrors as error:
        raise click.ClickException(
            f"a demo item is not valid, nothing was added: {error}"
        ) from None
    click.echo(f"Added {added} news items.")


@click.command("revoke-links")
@click.argument("email")
@with_appcontext
def revoke_links(email: str) -> None:
    """Make every link sent so far to this subscriber stop working (a leaked email, say)."""
    try:
        address = subscriptions.normalise_address(email)
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    with transaction():
        subscriber = subscriptions.find_subscriber(address)
        if subscriber is None:
            raise click.ClickException(f"no subscriber with the address {address}")
        subscriptions.revoke_links(subscriber, now=clock.now())
    click.echo(f"Revoked every link sent to {address}; new emails carry new links.")


@click.command("create-api-key")
@click.argument("name")
@with_appcontext
def create_api_key(name: str) -> None:
    """Make a key for the JSON API and print it; the key is shown this once and never again."""
    try:
        with transaction():
            made = staff.create_api_key(name, created_by=None, actor="cli", now=clock.now())
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Made API key {made.key.id} ({made.key.name}); store it now, it is not kept:")
    click.echo(made.plaintext)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Yield an event that SIGINT or SIGTERM sets, for a clean stop."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
