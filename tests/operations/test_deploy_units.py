"""The example systemd units in deploy/ are ones systemd accepts: `systemd-analyze verify`,
with the paths pointed at this checkout (verify checks that each command exists)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mailer.paths import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def _here(unit: Path, folder: Path) -> Path:
    """The unit with /opt/csp-news (and its environment file) replaced by this checkout."""
    venv = str(Path(sys.executable).parent.parent)
    text = (
        unit.read_text()
        .replace("/opt/csp-news/.venv", venv)
        .replace("/opt/csp-news", str(PROJECT_ROOT))
        .replace("/etc/csp-news/environment", str(DEPLOY / "environment.example"))
    )
    copy = folder / unit.name
    copy.write_text(text)
    return copy


def test_there_is_a_unit_for_each_process():
    assert [unit.name for unit in UNITS] == [
        "csp-news-bounce-inbox.service",
        "csp-news-scheduler.service",
        "csp-news-web.service",
        "csp-news-worker@.service",
    ]


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed here (Debian: apt-get install systemd)",
)
def test_systemd_analyze_verifies_every_unit(tmp_path):
    copies = [str(_here(unit, tmp_path)) for unit in UNITS]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *copies],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
