"""`mailer dev` and `mailer outbox` as a newcomer runs them: real processes, real ports."""

from __future__ import annotations

import http.cookiejar
import mailbox
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ALLOWED_SMTP_PORTS

MAILER = str(Path(sys.executable).parent / "mailer")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition, timeout=30.0):
    """Poll `condition` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"gave up waiting after {timeout} seconds")


def _env(tmp_path: Path, **settings: object) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILER_")}
    env.update({f"MAILER_{key}": str(value) for key, value in settings.items()})
    env["MAILER_DATABASE_URL"] = f"sqlite:///{tmp_path}/dev.sqlite"
    env["MAILER_OUTBOX_DIR"] = str(tmp_path / "outbox")
    return env


def _outbox(tmp_path: Path) -> list:
    return list(mailbox.Maildir(tmp_path / "outbox", create=False))


class Browser:
    """Just enough of a browser: cookies, forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode()

    def submit(self, path: str, fields: list[tuple[str, str]]) -> str:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path)).group(1)
        data = urllib.parse.urlencode([("csrf_token", token), *fields]).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as response:
            return response.read().decode()


@pytest.mark.slow
def test_make_run_flow_subscribe_confirm_through_the_outbox_and_ctrl_c(tmp_path):
    web, smtp, bounces = _free_port(), _free_port(), _free_port()
    ALLOWED_SMTP_PORTS.add(bounces)
    env = _env(
        tmp_path,
        SMTP_PORT=smtp,
        BOUNCE_INBOX_PORT=bounces,
        BASE_URL=f"http://127.0.0.1:{web}",
        WORKER_POLL_SECONDS=0.1,
    )
    for setup in (["db", "upgrade"], ["seed-topics"]):
        subprocess.run([MAILER, *setup], env=env, check=True, capture_output=True, timeout=60)
    log = tmp_path / "dev.log"
    with log.open("wb") as output:
        dev = subprocess.Popen(
            [MAILER, "dev", "--port", str(web)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for(lambda: "Press Ctrl-C to stop." in log.read_text())
        browser = Browser(f"http://127.0.0.1:{web}")
        answer = browser.submit(
            "/subscribe",
            [("email", "newcomer@example.org"), ("topics", "funding"), ("frequency", "daily")],
        )
        assert "Check your email" in answer

        _wait_for(lambda: _outbox(tmp_path))
        listing = browser.get("/outbox/")
        assert "Confirm your subscription" in listing
        message_page = browser.get(re.search(r'href="(/outbox/[^"]+)"', listing).group(1))
        confirm = re.search(r'<a href="http://127\.0\.0\.1:\d+(/confirm/[^"]+)"', message_page)
        confirmed = browser.submit(confirm.group(1), [])
        assert "Subscription confirmed" in confirmed

        welcome = _wait_for(lambda: len(_outbox(tmp_path)) == 2)
        assert welcome

        # The bounce inbox runs too, and is nobody's relay.
        with smtplib.SMTP("127.0.0.1", bounces, timeout=10) as inbox:
            inbox.ehlo()
            inbox.mail("someone@example.net")
            assert inbox.rcpt("victim@example.com")[0] == 550
    finally:
        dev.send_signal(signal.SIGINT)
        code = dev.wait(timeout=30)
    output = log.read_text()
    assert code == 0, output
    assert "Stopped." in output
    assert "Traceback" not in output
    subjects = sorted(str(m["Subject"]) for m in _outbox(tmp_path))
    assert subjects == [
        "Confirm your subscription to Community Safety Partnerships news",
        "You are subscribed to Community Safety Partnerships news",
    ]


@pytest.mark.slow
def test_the_outbox_keeps_what_it_receives_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    ALLOWED_SMTP_PORTS.add(port)
    log = tmp_path / "outbox.log"
    with log.open("wb") as output:
        outbox = subprocess.Popen(
            [MAILER, "outbox", "--port", str(port)],
            env=_env(tmp_path),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(lambda: "Outbox listening" in log.read_text())
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: kept\r\n\r\nHello\r\n")
        assert [str(m["Subject"]) for m in _outbox(tmp_path)] == ["kept"]
    finally:
        outbox.send_signal(signal.SIGTERM)
        assert outbox.wait(timeout=30) == 0, log.read_text()


def test_the_dev_server_says_clearly_when_its_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, SMTP_PORT=port)
        result = subprocess.run(
            [MAILER, "dev", "--port", str(_free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot start the outbox on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
