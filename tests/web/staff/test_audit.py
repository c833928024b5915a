"""The audit log page reads as sentences, links to the things, and keeps the raw record behind
"Technical details"."""

from __future__ import annotations

import re

from mailer.domain import audit
from mailer.extensions import db
from tests import TODAY
from tests.factories import publish_news
from tests.helpers import ADMIN


def test_the_audit_log_says_who_did_what_in_words_with_a_link(app, admin):
    with app.app_context():
        item = publish_news("Serious violence duty guidance", at=TODAY)
        audit.record("staff:3 ann@example.gov.uk", "published", item, now=TODAY)
        db.session.commit()
        item_id = item.id
    page = re.sub(r"\s+", " ", admin.get("/staff/audit").get_data(as_text=True))
    assert (
        "Ann (ann@example.gov.uk) published "
        f'<a class="govuk-link" href="/staff/news/{item_id}">Serious violence duty guidance</a>'
    ) in page
    details = page.split("Technical details", 1)[1].split("</details>", 1)[0]
    assert "<code>published</code>" in details
    assert f"<code>NewsItem {item_id}</code>" in details
    # Staff accounts made by the test setup read in words too.
    assert f'added the staff account <a class="govuk-link" href="/staff/users">{ADMIN}</a>' in page
    assert "run.create" not in page.split("<details", 1)[0]
