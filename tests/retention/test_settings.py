"""The retention settings: periods too short to be safe stop the service from starting."""

from __future__ import annotations

import pytest

from config import ConfigError
from config import ProductionConfig
from config import TestingConfig
from mailer.app import create_app
from tests.test_config import GOOD_PRODUCTION
from tests.test_config import _run

DELIVERIES = (
    "MAILER_DELIVERY_RETENTION_DAYS must be a whole number of days, at least 31: "
    "the deliverability page charts the last 30 days"
)
UNSUBSCRIBED = "MAILER_UNSUBSCRIBED_RETENTION_DAYS must be a whole number of days, at least 1"
INBOUND = "MAILER_INBOUND_RETENTION_DAYS must be a whole number of days, at least 1"


def test_the_defaults_keep_unsubscribed_addresses_90_days_and_deliveries_400(app):
    assert app.config["UNSUBSCRIBED_RETENTION_DAYS"] == 90
    assert app.config["DELIVERY_RETENTION_DAYS"] == 400
    assert app.config["UNCONFIRMED_RETENTION_DAYS"] == 7
    assert app.config["INBOUND_RETENTION_DAYS"] == 90


@pytest.mark.parametrize("mode", [TestingConfig, ProductionConfig])
@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"DELIVERY_RETENTION_DAYS": 30}, DELIVERIES),
        ({"DELIVERY_RETENTION_DAYS": 0}, DELIVERIES),
        ({"DELIVERY_RETENTION_DAYS": "a year"}, DELIVERIES),
        ({"DELIVERY_RETENTION_DAYS": 400.5}, DELIVERIES),
        ({"UNSUBSCRIBED_RETENTION_DAYS": 0}, UNSUBSCRIBED),
        ({"UNSUBSCRIBED_RETENTION_DAYS": -90}, UNSUBSCRIBED),
        ({"UNSUBSCRIBED_RETENTION_DAYS": True}, UNSUBSCRIBED),
        ({"UNSUBSCRIBED_RETENTION_DAYS": None}, UNSUBSCRIBED),
        ({"INBOUND_RETENTION_DAYS": 0}, INBOUND),
        ({"INBOUND_RETENTION_DAYS": "forever"}, INBOUND),
    ],
)
def test_a_retention_period_too_short_or_not_a_number_is_refused(mode, override, complaint):
    with pytest.raises(ConfigError) as raised:
        create_app(mode, {**GOOD_PRODUCTION, **override})
    assert complaint in str(raised.value)


def test_the_shortest_allowed_periods_are_accepted(app_settings):
    shortest = {"DELIVERY_RETENTION_DAYS": 31, "UNSUBSCRIBED_RETENTION_DAYS": 1}
    app = create_app(TestingConfig, {**app_settings, **shortest})
    assert app.config["DELIVERY_RETENTION_DAYS"] == 31


def test_production_names_every_problem_at_once():
    unsafe = {**GOOD_PRODUCTION, "SECRET_KEY": None, "DELIVERY_RETENTION_DAYS": 7}
    with pytest.raises(ConfigError) as raised:
        create_app(ProductionConfig, unsafe)
    message = str(raised.value)
    assert message.startswith("refusing to start in production mode:")
    assert DELIVERIES in message
    assert "MAILER_SECRET_KEY" in message


def test_the_command_says_why_it_will_not_start():
    result = _run("retention", "--dry-run", MAILER_DELIVERY_RETENTION_DAYS="30")
    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert DELIVERIES in result.stderr
    assert "Traceback" not in result.stderr
