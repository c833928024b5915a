"""Fixtures of the retention tests: a clock to travel with."""

from __future__ import annotations

import pytest

from mailer import clock


@pytest.fixture
def at(monkeypatch):
    """Set the wall clock that jobs, commands and pages read: at(when)."""

    def set_now(when):
        monkeypatch.setattr(clock, "now", lambda: when)

    return set_now
