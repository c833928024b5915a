"""A title holding an RFC 2047 encoded CRLF never becomes a header line break: the news form
refuses it, and the fan-out refuses a head it did not write (CVE-2024-6923 in older Pythons)."""

import pytest

from mailer.delivery.compose import Rendered
from mailer.delivery.fanout import Marks
from mailer.delivery.fanout import prototype
from mailer.domain import news
from mailer.errors import FieldErrors

TITLE = "Fund news =?utf-8?q?=0D=0AReply-To=3A_payments=40evil=2Eexample?= round 6"


def test_a_title_with_an_encoded_word_is_refused(app):
    with app.app_context(), pytest.raises(FieldErrors) as refused:
        news.validate_draft(title=TITLE, summary="s", body="b", topic_slugs=["funding"])
    assert "encoded text" in refused.value.errors["title"]


def test_a_subject_that_would_add_a_header_is_never_laid_out():
    marks = Marks.new()
    links = marks.links("https://news.example")
    rendered = Rendered(subject=f"CSP news: {TITLE}", text=links["manage_url"], html="<p>x</p>")
    try:
        proto = prototype(
            rendered,
            marks=marks,
            sender="CSP news <news@example.gov.uk>",
            reply_to=None,
            list_id="CSP news <news.example.gov.uk>",
            base_url="https://news.example",
            unsubscribe_address="unsubscribe@example.gov.uk",
            feedback_id="immediate:alert:news:cspnews",
        )
    except ValueError:
        return
    # A Python whose email package is not affected writes the subject encoded, on its lines.
    assert b"\r\nReply-To:" not in proto.head
