"""`mailer dev`: the web app, a worker, the scheduler and the outbox in one process."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
from aiosmtpd.controller import Controller
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

from mailer.delivery.dkim import DkimKeyError
from mailer.delivery.worker import Worker
from mailer.delivery.worker import worker_from_config
from mailer.jobs import add_jobs
from mailer.servers.inbox import InboxController
from mailer.servers.inbox import start_inbox
from mailer.servers.outbox import start_outbox

logger = logging.getLogger(__name__)


def run_dev(app: Flask, *, host: str, port: int, outbox: bool) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop every part cleanly."""
    try:
        with app.app_context():
            sender = worker_from_config(app.config)
    except DkimKeyError as error:
        raise click.ClickException(str(error)) from None
    controller = _start_outbox(app) if outbox else None
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as error:
        if controller:
            controller.stop()
        raise click.ClickException(f"cannot serve on {host}:{port}: {error}") from None
    inbox = _start_inbox(app)
    stop = threading.Event()
    scheduler = BackgroundScheduler(timezone=app.config["TIMEZONE"])
    add_jobs(scheduler, app)
    scheduler.start()
    worker = threading.Thread(target=_work, args=(app, sender, stop), name="worker")
    worker.start()
    _announce(app, host, port, outbox)
    try:
        _serve(server)
    finally:
        server.server_close()
        stop.set()
        worker.join()
        scheduler.shutdown(wait=False)
        for part in (controller, inbox):
            if part:
                part.stop()
        click.echo("Stopped.")


def _serve(server: BaseWSGIServer) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    # Explicit handlers: a shell that starts us in the background makes SIGINT ignored.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nStopping...")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_outbox(app: Flask) -> Controller:
    """The development outbox on the SMTP host and port the worker sends to."""
    smtp_host, smtp_port = app.config["SMTP_HOST"], int(app.config["SMTP_PORT"])
    try:
        return start_outbox(app.config["OUTBOX_DIR"], host=smtp_host, port=smtp_port)
    except OSError as error:
        raise click.ClickException(
            f"cannot start the outbox on {smtp_host}:{smtp_port} ({error}); "
            "is another one running? Use --no-outbox to use it."
        ) from None


def _start_inbox(app: Flask) -> InboxController | None:
    """The bounce inbox, so bounces and unsubscribe emails can be tried by hand; the rest
    runs without it if its port is taken."""
    host, port = app.config["BOUNCE_INBOX_HOST"], int(app.config["BOUNCE_INBOX_PORT"])
    try:
        return start_inbox(app, host=host, port=port)
    except OSError as error:
        logger.warning("bounce inbox not started on %s:%s: %s", host, port, error)
        return None


def _work(app: Flask, sender: Worker, stop: threading.Event) -> None:
    """Run the worker until `stop` is set."""
    with app.app_context():
        sender.run_forever(stop)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _announce(app: Flask, host: str, port: int, outbox: bool) -> None:
    """Tell the newcomer where everything is."""
    click.echo(f"CSP news mailer running ({app.config['ENV_NAME']} mode)")
    click.echo(f"  Web app:  http://{host}:{port}/")
    if outbox and app.config["OUTBOX_ENABLED"]:
        click.echo(f"  Outbox:   http://{host}:{port}/outbox/  (every email sent)")
    click.echo(f"  SMTP:     {app.config['SMTP_HOST']}:{app.config['SMTP_PORT']}")
    bounces = f"{app.config['BOUNCE_INBOX_HOST']}:{app.config['BOUNCE_INBOX_PORT']}"
    click.echo(f"  Bounces:  {bounces}  (bounce inbox, for {app.config['BOUNCE_DOMAIN']})")
    click.echo(f"  Database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    click.echo("Press Ctrl-C to stop.")
