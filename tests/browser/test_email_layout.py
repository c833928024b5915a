"""A digest email as Chromium lays it out on a phone's screen and a desktop's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.extensions import db
from mailer.models import Frequency
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import make_digest
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued


def _digest_html(app, smtpd) -> str:
    """The HTML part of a daily digest of two items, as the reader receives it."""
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END - timedelta(days=1))
        publish_news("Safer Streets Fund", at=END - timedelta(minutes=2))
        publish_news("Partnership conference", at=END - timedelta(minutes=1))
        db.session.commit()
    make_digest(app)
    send_queued(app, now=AFTER)
    [message] = smtpd.drain()
    return message.html


@pytest.mark.parametrize(
    ("width", "heading", "padding"), [(375, "24px", "12px"), (800, "28px", "20px")]
)
def test_the_heading_and_margins_shrink_on_a_phone(app, smtpd, browser, width, heading, padding):
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.set_content(_digest_html(app, smtpd))
        assert page.eval_on_selector("h1", "e => getComputedStyle(e).fontSize") == heading
        assert page.eval_on_selector(".content", "e => getComputedStyle(e).paddingLeft") == padding
        # The preheader is for the inbox list only: the reader of the email never sees it.
        assert page.is_hidden(".preheader")
        assert page.eval_on_selector(".wrapper", "e => e.getBoundingClientRect().top") == 0
    finally:
        context.close()
