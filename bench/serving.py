"""The web app under gunicorn on loopback, for the benches that drive it over HTTP: started
with N sync workers on a free port, waited for on /healthz, stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(
    app: str, *, workers: int, env: dict[str, str], log: Path, backlog: int = 2048
) -> Iterator[str]:
    """Run `app` ("module:callable" or "module:factory()") under gunicorn; yield its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--backlog", str(backlog),
        "--pythonpath", f"{ROOT},{BENCH}",
        "--log-level", "warning",
        app,
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer /healthz in 60 s:\n{log.read_text()}")


def app_env(database_url: str) -> dict[str, str]:
    """The MAILER_* variables of the served app: development mode on the bench's database."""
    return {
        "MAILER_ENV": "development",
        "MAILER_DATABASE_URL": database_url,
        "MAILER_OUTBOX_ENABLED": "false",
    }
