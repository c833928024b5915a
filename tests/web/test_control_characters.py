"""Characters that XML cannot carry (C0 controls, U+FFFE, U+FFFF), as text pasted from a word
processor brings them: cleaned or refused on every way in, and never a broken feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.domain import demo
from mailer.domain import staff
from mailer.extensions import db
from mailer.models import NewsItem
from mailer.models import StaffRole
from tests.factories import publish_news
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import logged_in
from tests.web.test_news_pages import PUBLISHED

ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = ("/feed.atom", "/topics/funding/feed.atom")
# Vertical tab (a line break in Word), form feed (a page break), other C0 controls, and the two
# non-characters; none of them is allowed in XML 1.0.
NOT_XML = ("\x0b", "\x0c", "\x01", "\x08", "\x1f", "\ufffe", "\uffff")


def _feed_entries(client) -> list[list[ET.Element]]:
    """The entries of every feed, each feed read as a feed reader would."""
    found = []
    for url in FEEDS:
        response = client.get(url)
        assert response.status_code == 200, url
        found.append(ET.fromstring(response.get_data()).findall(f"{ATOM}entry"))
    return found


def _stored(app) -> list[NewsItem]:
    with app.app_context():
        items = list(db.session.scalars(select(NewsItem)))
        db.session.expunge_all()
        return items


def test_an_item_stored_with_characters_xml_cannot_carry_does_not_break_the_feeds(app, client):
    # As an item saved before input was cleaned: straight into the table.
    with app.app_context():
        item = publish_news(f"Pasted{''.join(NOT_XML)} title", at=PUBLISHED)
        item.summary = f"Page{''.join(NOT_XML)} break"
        item.body_html = "<p>Line\x0bbreak\x0cand\ufffemore</p>"
        db.session.commit()
    for entries in _feed_entries(client):
        [entry] = entries
        assert entry.findtext(f"{ATOM}title") == "Pasted title"
        assert entry.findtext(f"{ATOM}summary") == "Page break"
        assert entry.findtext(f"{ATOM}content") == "<p>Linebreakandmore</p>"


@pytest.mark.parametrize("character", NOT_XML)
def test_the_staff_form_cleans_a_body_pasted_from_a_word_processor(app, client, character):
    logged_in(app, client, EDITOR, StaffRole.EDITOR, now=clock.now())
    data = {
        "csrf_token": csrf_token(client, "/staff/news/new"),
        "title": "Pasted news",
        "summary": "From a document.",
        "body": f"First line{character}Second line",
        "topics": ["funding"],
    }
    assert client.post("/staff/news/new", data=data).status_code == 302
    [item] = _stored(app)
    breaks = character in "\x0b\x0c"
    assert item.body_markdown == ("First line\nSecond line" if breaks else "First lineSecond line")
    assert character not in item.body_html


@pytest.mark.parametrize("character", ["\ufffe", "\uffff"])
@pytest.mark.parametrize("field", ["title", "summary"])
def test_the_staff_form_refuses_a_title_or_summary_xml_cannot_carry(app, client, field, character):
    logged_in(app, client, EDITOR, StaffRole.EDITOR, now=clock.now())
    data = {
        "csrf_token": csrf_token(client, "/staff/news/new"),
        "title": "Pasted news",
        "summary": "From a document.",
        "body": "",
        "topics": ["funding"],
        field: f"Broken{character} text",
    }
    response = client.post("/staff/news/new", data=data)
    assert response.status_code == 400
    assert f"{field.capitalize()} must not contain control characters" in response.get_data(
        as_text=True
    )
    assert _stored(app) == []


@pytest.fixture
def bearer(app) -> dict[str, str]:
    with app.app_context(), transaction():
        made = staff.create_api_key("cms", created_by=None, actor="test", now=clock.now())
    return {"Authorization": f"Bearer {made.plaintext}"}


def test_the_api_cleans_the_body_and_refuses_such_titles_and_summaries(app, client, bearer):
    fields = {"title": "Pasted news", "summary": "From a document.", "topics": ["funding"]}
    body = "".join(f"{n}{character}" for n, character in enumerate(NOT_XML))
    created = client.post(
        "/api/v1/news", json={**fields, "body": body, "publish": True}, headers=bearer
    )
    assert created.status_code == 201
    assert created.get_json()["body"] == "0\n1\n23456"
    for field in ("title", "summary"):
        refused = client.post(
            "/api/v1/news", json={**fields, field: "Broken\ufffe text"}, headers=bearer
        )
        assert refused.status_code == 422
        assert refused.get_json()["error"]["fields"][field].startswith(
            f"{field.capitalize()} must not contain control characters"
        )
    assert len(_feed_entries(client)[0]) == 1


def test_seed_demo_refuses_demo_items_xml_cannot_carry(app, client, runner, monkeypatch):
    pasted = demo.DemoItem("Pasted\ufffe news", "From a document.", PUBLISHED.date(), ("funding",))
    monkeypatch.setattr(demo, "DEMO_ITEMS", (*demo.DEMO_ITEMS[:1], pasted))
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "Title must not contain control characters" in result.output
    assert isinstance(result.exception, SystemExit)
    assert _stored(app) == []
    assert _feed_entries(client) == [[], []]
