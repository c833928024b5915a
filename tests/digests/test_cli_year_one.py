"""A period end in year 1 is a usage error, not a traceback."""

import pytest


@pytest.mark.parametrize("end", ["0001-01-01T00:00:00+00:00", "0001-01-02T07:00:00+00:00"])
def test_send_digest_with_a_year_one_period_end_is_a_usage_error(runner, end):
    result = runner.invoke(args=["send-digest", "--frequency", "daily", "--period-end", end])
    assert result.exit_code == 2, repr(result.exception)
