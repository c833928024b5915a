"""The `mailer` command: Flask's commands plus the service's own, one module per audience."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from flask.cli import FlaskGroup

from config import ConfigError
from mailer.cli import admin
from mailer.cli import counts
from mailer.cli import directory
from mailer.cli import privacy
from mailer.cli import processes
from mailer.cli import runs
from mailer.cli import subscribers
from mailer.cli import topics
from mailer.delivery.dkim import DkimKeyError
from mailer.errors import InvalidInput
from mailer.errors import MailerError


def run(create_app: Callable[[], Flask], args: Sequence[str] | None = None) -> None:
    """Run the `mailer` command on apps that `create_app` makes (the console script's body).

    :param args: the command line; by default the process's own.
    """
    group = _Group(
        create_app=create_app,
        add_version_option=False,
        load_dotenv=False,
        help="The CSP news mailer. Settings come from MAILER_* environment variables.",
    )
    try:
        # Check the settings first, so that every command (and --help) fails the same clear way.
        create_app()
        group.main(args=args)
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


class _DomainErrors(click.Group):
    """A group that says a domain error as click says a bad option: `Error: ...`, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidInput as error:
            raise click.ClickException(error.message) from None
        except MailerError as error:
            raise click.ClickException(str(error)) from None


class _Group(_DomainErrors, FlaskGroup):
    """The console script's group."""


class _AppCommands(_DomainErrors, AppGroup):
    """The app's own group (`app.cli`), which the test runner invokes."""


def init_app(app: Flask) -> None:
    """Register the service's own commands on the app's CLI group."""
    commands = _AppCommands(app.name)
    # Keep what extensions (Flask-Migrate's `db`) registered already.
    for name, command in app.cli.commands.items():
        commands.add_command(command, name)
    app.cli = commands
    for module in (processes, runs, subscribers, privacy, admin, topics, directory, counts):
        for command in module.COMMANDS:
            app.cli.add_command(command)
