"""A live server and Debian's Chromium driven by Playwright, with axe-core for accessibility."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / ".test-results"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if not AXE.exists():
        return f"{AXE} is missing (npm ci)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests where there is no browser, unless CI says they must run."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("MAILER_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"browser tests must run here, but {reason}")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def live_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def app_settings(app_settings: dict[str, Any], live_port: int) -> dict[str, Any]:
    # Public pages may be kept by a browser for MAILER_PUBLIC_CACHE_MAX_AGE; the tests change
    # them within seconds, so the browser must ask again (with their ETags) every time.
    return {
        **app_settings,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
        "PUBLIC_CACHE_MAX_AGE": 0,
    }


@pytest.fixture
def live_server(app: Any, live_port: int) -> Iterator[str]:
    """Serve the test app on a real port for the browser."""
    server = make_server("127.0.0.1", live_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # When the suite runs with its clock moved (libfaketime, see the README), the web app under
    # test moves with it but the browser keeps the real time: Chromium hangs under libfaketime,
    # and no test depends on the browser's own clock. Only the driver and the browser it starts
    # are spawned without it; processes that tests start later still get it.
    moved = os.environ.pop("LD_PRELOAD", None)
    try:
        playwright = sync_playwright().start()
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    finally:
        if moved is not None:
            os.environ["LD_PRELOAD"] = moved
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page whose Content-Security-Policy reports fail the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert refused == [], "the Content-Security-Policy refused something"


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest) -> Path:
    folder = OUTPUT / "screenshots" / request.config.getoption("--db")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class AxeReport:
    """Collects axe-core results per page and writes a summary beside the screenshots."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pages: dict[str, dict[str, int]] = {}

    def check(self, page: Any, name: str) -> list[dict[str, Any]]:
        """Run axe on the page; return its serious and critical violations."""
        # Through DevTools, which the pages' Content-Security-Policy leaves alone; a <script>
        # tag of inline code, which add_script_tag would add, is refused by it.
        page.evaluate(AXE.read_text())
        result = page.evaluate("async () => await axe.run(document)")
        counts = {"passes": len(result["passes"]), "violations": len(result["violations"])}
        for violation in result["violations"]:
            impact = violation.get("impact") or "unknown"
            counts[impact] = counts.get(impact, 0) + 1
        self.pages[name] = counts
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
            if v.get("impact") in ("serious", "critical")
        ]

    def write(self) -> None:
        self.path.write_text(json.dumps(self.pages, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="session")
def axe(screenshots: Path) -> Iterator[AxeReport]:
    report = AxeReport(screenshots / "axe-summary.json")
    yield report
    report.write()
