"""The bounce-inbox command."""

from __future__ import annotations

from mailer.cli.processes import bounce_inbox


def test_the_command_says_where_its_defaults_come_from(app):
    result = app.test_cli_runner().invoke(bounce_inbox, ["--help"])
    assert result.exit_code == 0
    assert "MAILER_BOUNCE_INBOX_HOST" in result.output
    assert "MAILER_BOUNCE_INBOX_PORT" in result.output


def test_the_command_refuses_a_port_out_of_range(app):
    result = app.test_cli_runner().invoke(bounce_inbox, ["--port", "70000"])
    assert result.exit_code == 2
    assert "70000 is not in the range 0<=x<=65535" in result.output
