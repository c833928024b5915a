"""The long-running processes: worker, outbox, dev, scheduler and bounce inbox."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from mailer import jobs
from mailer.cli.common import app_object
from mailer.cli.common import configure_logging
from mailer.cli.common import stop_on_signals
from mailer.delivery.worker import worker_from_config


@click.command()
@click.option("--once", is_flag=True, help="Send everything due now, then exit.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="SMTP connections kept busy at once (default: MAILER_WORKER_CONCURRENCY).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Worker processes (one per core lets DKIM signing use them all).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve this worker's Prometheus figures on this port (0: any free port).",
)
@click.option(
    "--metrics-host", default="127.0.0.1", show_default=True, help="Address of --metrics-port."
)
@with_appcontext
def worker(
    once: bool,
    concurrency: int | None,
    processes: int,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Send queued emails over SMTP, until stopped (or with --once, until none is due)."""
    from mailer.delivery.metrics import start_exporting

    configure_logging()
    if processes > 1:
        if metrics_port is not None:
            raise click.UsageError(
                "--metrics-port serves one process: with --processes, set "
                "PROMETHEUS_MULTIPROC_DIR and serve the figures from one worker (docs/deploy.md)"
            )
        _worker_processes(processes, once=once, concurrency=concurrency)
        return
    sender = worker_from_config(current_app.config, concurrency=concurrency)
    if once:
        stats = sender.run_once()
        click.echo(f"Worker finished: {stats}.")
        return
    click.echo(f"Worker {sender.owner} sending; Ctrl-C stops it.")
    with stop_on_signals() as stop:
        server = start_exporting(sender.stats, port=metrics_port, host=metrics_host, stop=stop)
        if server is not None:
            click.echo(f"Worker figures at http://{metrics_host}:{server.server_port}/metrics")
        sender.run_forever(stop)


def _worker_processes(processes: int, *, once: bool, concurrency: int | None) -> None:
    """Run several worker processes until stopped, or until none has anything due."""
    from mailer.servers.workers import run_workers

    if not once:
        click.echo(f"{processes} worker processes sending; Ctrl-C stops them.")
    stats, clean = run_workers(
        app_object(), processes=processes, once=once, concurrency=concurrency
    )
    click.echo(f"Worker finished: {stats}.")
    if not clean:
        raise click.ClickException("a worker process did not exit cleanly; see the log above")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: MAILER_SMTP_PORT.")
@with_appcontext
def outbox(host: str, port: int | None) -> None:
    """Run the development outbox: an SMTP server that keeps every message it receives."""
    from mailer.servers.outbox import start_outbox

    configure_logging()
    port = port or int(current_app.config["SMTP_PORT"])
    controller = start_outbox(current_app.config["OUTBOX_DIR"], host=host, port=port)
    click.echo(
        f"Outbox listening on {host}:{port}, keeping mail in "
        f"{current_app.config['OUTBOX_DIR']}; Ctrl-C stops it."
    )
    with stop_on_signals() as stop:
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

    configure_logging()
    run_dev(app_object(), host=host, port=port, outbox=not no_outbox)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs in the foreground (same as `python scheduler.py`)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    configure_logging()
    app = app_object()
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    jobs.add_jobs(scheduler, app)
    click.echo("Scheduler running; Ctrl-C stops it.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


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
    from mailer.servers.inbox import start_inbox

    configure_logging()
    # flufl.bounce logs every detector it runs at INFO.
    logging.getLogger("flufl.bounce").setLevel(logging.WARNING)
    app = app_object()
    host = host or app.config["BOUNCE_INBOX_HOST"]
    port = int(app.config["BOUNCE_INBOX_PORT"]) if port is None else port
    controller = start_inbox(app, host=host, port=port)
    click.echo(
        f"Bounce inbox listening on {host}:{controller.port} for bounces+*@"
        f"{app.config['BOUNCE_DOMAIN']} and {app.config['UNSUBSCRIBE_MAILTO']}; Ctrl-C stops it."
    )
    with stop_on_signals() as stop:
        stop.wait()
    controller.stop()


COMMANDS = (
    worker,
    outbox,
    dev,
    scheduler_command,
    bounce_inbox,
)
