"""The `bounce-inbox` command: receive bounces, complaints and unsubscribe emails."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("bounce-inbox")
@click.option(
    "--host", default=None, help="Address to listen on. Default: MAILER_BOUNCE_INBOX_HOST."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port to listen on. Default: MAILER_BOUNCE_INBOX_PORT.",
)
@with_appcontext
def bounce_inbox(host: str | None, port: int | None) -> None:
    """Run the bounce inbox: an SMTP server that records bounces, complaints and unsubscribe
    emails for the VERP return paths and the unsubscribe address, until stopped."""
    # Imported here: mailer.cli imports this module to register the command.
    from mailer.cli import _logging
    from mailer.cli import _stop_on_signals
    from mailer.servers.inbox import start_inbox

    _logging()
    # flufl.bounce logs every detector it runs at INFO.
    logging.getLogger("flufl.bounce").setLevel(logging.WARNING)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    host = host or app.config["BOUNCE_INBOX_HOST"]
    port = int(app.config["BOUNCE_INBOX_PORT"]) if port is None else port
    controller = start_inbox(app, host=host, port=port)
    click.echo(
        f"Bounce inbox listening on {host}:{controller.port} for bounces+*@"
        f"{app.config['BOUNCE_DOMAIN']} and {app.config['UNSUBSCRIBE_MAILTO']}; Ctrl-C stops it."
    )
    with _stop_on_signals() as stop:
        stop.wait()
    controller.stop()
