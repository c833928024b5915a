"""The Atom feeds of the whole site and of each topic, read as a feed reader would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from tests.web.test_news_pages import PUBLISHED
from tests.web.test_news_pages import add_item

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://127.0.0.1:5000"


def read_feed(client, url: str, **options) -> ET.Element:
    """Fetch a feed, check it is served as Atom, and parse it with the standard library."""
    response = client.get(url, **options)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{ATOM}feed"
    _check_required_elements(root)
    return root


def _check_required_elements(root: ET.Element) -> None:
    """RFC 4287: a feed and each entry have an id, a title and an updated date; an author."""
    for element in (root, *root.iter(f"{ATOM}entry")):
        assert element.findtext(f"{ATOM}id")
        assert element.findtext(f"{ATOM}title")
        updated = element.findtext(f"{ATOM}updated")
        assert datetime.fromisoformat(updated).tzinfo is not None
    assert root.findtext(f"{ATOM}author/{ATOM}name")


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{ATOM}entry")


def links(element: ET.Element) -> dict[str, str]:
    """Each link's href by its relation; a link without rel is "alternate" (RFC 4287 4.2.7.2)."""
    return {
        link.get("rel", "alternate"): link.get("href") for link in element.findall(f"{ATOM}link")
    }


def test_site_feed_lists_published_items_newest_first(app, client):
    add_item(app, "Older news", topics=("events",))
    slug = add_item(
        app,
        "Funding round opens",
        summary="Bids close in April.",
        body="Read the **guidance**.",
        topics=("funding", "domestic-homicide-reviews"),
        at=PUBLISHED + timedelta(days=2),
    )
    root = read_feed(client, "/feed.atom")
    assert root.findtext(f"{ATOM}id") == f"{BASE}/feed.atom"
    assert root.findtext(f"{ATOM}title") == "Community Safety Partnerships news"
    assert links(root) == {"self": f"{BASE}/feed.atom", "alternate": f"{BASE}/"}
    assert root.findtext(f"{ATOM}updated") == "2013-03-08T09:00:00+00:00"
    newest, older = entries(root)
    assert older.findtext(f"{ATOM}title") == "Older news"
    assert newest.findtext(f"{ATOM}title") == "Funding round opens"
    assert newest.findtext(f"{ATOM}id") == f"{BASE}/news/{slug}"
    assert links(newest) == {"alternate": f"{BASE}/news/{slug}"}
    assert newest.findtext(f"{ATOM}published") == "2013-03-08T09:00:00+00:00"
    assert newest.findtext(f"{ATOM}updated") == "2013-03-08T09:00:00+00:00"
    assert newest.findtext(f"{ATOM}summary") == "Bids close in April."
    content = newest.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert content.text.strip() == "<p>Read the <strong>guidance</strong>.</p>"
    categories = [(c.get("term"), c.get("label")) for c in newest.findall(f"{ATOM}category")]
    assert categories == [
        ("funding", "Funding"),
        ("domestic-homicide-reviews", "Domestic homicide reviews"),
    ]


def test_feed_ids_do_not_depend_on_the_request_or_its_host(app, client):
    add_item(app, "Stable news")
    first = read_feed(client, "/feed.atom")
    second = read_feed(client, "/feed.atom", base_url="https://proxy.example.net")
    ids = [element.findtext(f"{ATOM}id") for element in (first, *entries(first))]
    assert ids == [element.findtext(f"{ATOM}id") for element in (second, *entries(second))]
    assert ET.tostring(first) == ET.tostring(second)


def test_an_edit_changes_the_updated_date_but_not_the_id(app, client):
    from mailer.domain import news
    from mailer.extensions import db

    slug = add_item(app, "News to correct")
    before = entries(read_feed(client, "/feed.atom"))[0]
    with app.app_context():
        item = news.item_by_slug(slug)
        draft = news.validate_draft(
            title="Corrected news", summary="Fixed.", body="", topic_slugs=["funding"]
        )
        news.update_item(item, draft, actor="test", now=PUBLISHED + timedelta(days=1))
        db.session.commit()
    after = entries(read_feed(client, "/feed.atom"))[0]
    assert after.findtext(f"{ATOM}id") == before.findtext(f"{ATOM}id")
    assert after.findtext(f"{ATOM}title") == "Corrected news"
    assert after.findtext(f"{ATOM}published") == "2013-03-06T09:00:00+00:00"
    assert after.findtext(f"{ATOM}updated") == "2013-03-07T09:00:00+00:00"


def test_topic_feed_carries_only_that_topics_items(app, client):
    add_item(app, "Funding news", topics=("funding",))
    add_item(app, "Event news", topics=("events",))
    add_item(app, "Funded event", topics=("events", "funding"))
    root = read_feed(client, "/topics/events/feed.atom")
    assert root.findtext(f"{ATOM}id") == f"{BASE}/topics/events/feed.atom"
    assert root.findtext(f"{ATOM}title") == "Events – Community Safety Partnerships news"
    assert links(root) == {
        "self": f"{BASE}/topics/events/feed.atom",
        "alternate": f"{BASE}/topics/events",
    }
    assert [e.findtext(f"{ATOM}title") for e in entries(root)] == ["Funded event", "Event news"]


@pytest.mark.parametrize("url", ["/feed.atom", "/topics/funding/feed.atom"])
@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_items_that_are_not_published_are_in_no_feed(app, client, url, state):
    add_item(app, "Public news")
    add_item(app, "Hidden news", state=state)
    root = read_feed(client, url)
    assert [e.findtext(f"{ATOM}title") for e in entries(root)] == ["Public news"]


@pytest.mark.parametrize("url", ["/feed.atom", "/topics/funding/feed.atom"])
def test_a_withdrawn_item_stays_in_the_feeds_saying_when_and_why_without_its_text(app, client, url):
    add_item(app, "Public news")
    add_item(app, "Recalled news", body="The **old** guidance.", state="withdrawn")
    root = read_feed(client, url)
    entry = next(e for e in entries(root) if "Recalled" in e.findtext(f"{ATOM}title"))
    assert entry.findtext(f"{ATOM}title") == "Withdrawn: Recalled news"
    assert entry.findtext(f"{ATOM}summary") == (
        "This news was withdrawn on 6 March 2013 because the round closed early."
    )
    assert entry.find(f"{ATOM}content") is None
    assert entry.findtext(f"{ATOM}updated").startswith("2013-03-06T10:00:00")


def test_an_empty_feed_is_still_valid_atom(client):
    root = read_feed(client, "/topics/consultations/feed.atom")
    assert entries(root) == []
    updated = datetime.fromisoformat(root.findtext(f"{ATOM}updated"))
    assert abs(updated - datetime.now(UTC)) < timedelta(minutes=5)


def test_feed_of_an_unknown_topic_is_not_found(client):
    assert client.get("/topics/no-such-topic/feed.atom").status_code == 404


def test_feed_readers_can_ask_whether_the_feed_changed(app, client):
    add_item(app, "Cached news")
    first = client.get("/feed.atom")
    again = client.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    add_item(app, "Fresh news", at=PUBLISHED + timedelta(days=1))
    changed = client.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200


def test_feed_escapes_titles_and_summaries(app, client):
    add_item(app, "Tom & Jerry <b>", summary="Less < more & </summary> done")
    entry = entries(read_feed(client, "/feed.atom"))[0]
    assert entry.findtext(f"{ATOM}title") == "Tom & Jerry <b>"
    assert entry.findtext(f"{ATOM}summary") == "Less < more & </summary> done"
