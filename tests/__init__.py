"""The test suite. Tests take time as a parameter: the fixed TODAY below, a date of their own,
or (only where the code under test reads the clock, as a request or a command does) the clock
read once."""

from datetime import UTC
from datetime import datetime

# The day test data is made on when a test needs no date of its own: a Wednesday in November
# 2026, in the past of any day the suite runs on.
TODAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
