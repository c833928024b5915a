"""Moving MAILER_DIGEST_DAILY_AT (07:00 -> 08:00) makes no digest again: the first period
after the move starts where the last one sent ended, and no period before it is recovered."""

from collections import Counter
from datetime import timedelta

from mailer.extensions import db
from mailer.models import Frequency
from tests.digests.conftest import END
from tests.digests.conftest import make_due
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued

DAY = timedelta(days=1)


def test_moving_the_daily_time_resends_nothing(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END - 30 * DAY)
        for n in range(10):
            publish_news(f"Item {n}", at=END - n * DAY - timedelta(hours=3))
        db.session.commit()
    # The scheduler has made the 07:00 digests every day for ten days.
    for n in range(9, -1, -1):
        make_due(app, END - n * DAY + timedelta(minutes=1), frequencies=(Frequency.DAILY,))
    send_queued(app, now=END + timedelta(minutes=2))
    before = Counter(m.message["Subject"] for m in smtpd.drain())
    assert sum(before.values()) == 10

    # Ops move the digest to 08:00; at 08:01 the scheduler runs its daily job.
    app.config["DIGEST_DAILY_AT"] = "08:00"
    make_due(app, END + timedelta(hours=1, minutes=1), frequencies=(Frequency.DAILY,))
    send_queued(app, now=END + timedelta(hours=1, minutes=2))
    again = smtpd.drain()
    assert len(again) <= 1, f"the reader got {len(again)} more digests of news already sent"
