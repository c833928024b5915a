"""Public pages and feeds a browser or CDN may keep, and answer 304 while nothing changed;
forms and personal pages that no cache may keep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer.domain import news
from mailer.extensions import db
from mailer.models import Topic
from tests import TODAY
from tests.factories import load_directory
from tests.web.test_news_pages import PUBLISHED
from tests.web.test_news_pages import add_item

PUBLIC = [
    "/",
    "/news",
    "/news/{slug}",
    "/topics/funding",
    "/feed.atom",
    "/topics/funding/feed.atom",
    "/bulletins",
]


@pytest.fixture
def slug(app):
    return add_item(app, "Cached news")


@pytest.mark.parametrize("url", PUBLIC)
def test_public_pages_may_be_kept_and_say_when_they_changed(client, slug, url):
    response = client.get(url.format(slug=slug))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["ETag"].startswith('"')
    assert response.last_modified == PUBLISHED


@pytest.mark.parametrize("url", PUBLIC)
def test_a_matching_etag_gets_304_without_a_body(client, slug, url):
    first = client.get(url.format(slug=slug))
    again = client.get(url.format(slug=slug), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("url", PUBLIC)
def test_if_modified_since_the_last_change_gets_304(client, slug, url):
    first = client.get(url.format(slug=slug))
    again = client.get(
        url.format(slug=slug), headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert again.status_code == 304
    earlier = client.get(
        url.format(slug=slug), headers={"If-Modified-Since": "Mon, 04 Mar 2013 09:00:00 GMT"}
    )
    assert earlier.status_code == 200


def test_a_newly_published_item_changes_the_etag_and_last_modified(app, client, slug):
    first = client.get("/")
    later = PUBLISHED + timedelta(days=1)
    add_item(app, "Fresh news", at=later)
    changed = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert changed.last_modified == later
    assert "Fresh news" in changed.get_data(as_text=True)
    by_date = client.get("/", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert by_date.status_code == 200


def test_an_edit_and_a_withdrawal_change_the_item_page(app, client, slug):
    url = f"/news/{slug}"
    first = client.get(url).headers["ETag"]
    with app.app_context():
        item = news.item_by_slug(slug)
        news.withdraw_item(item, reason="It was wrong", actor="test", now=PUBLISHED + timedelta(1))
        db.session.commit()
    changed = client.get(url, headers={"If-None-Match": first})
    assert changed.status_code == 200
    assert "withdrawn" in changed.get_data(as_text=True)


def test_renaming_a_topic_changes_the_pages_that_list_topics(app, client, slug):
    first = client.get("/").headers["ETag"]
    with app.app_context():
        topic = db.session.scalar(select(Topic).where(Topic.slug == "funding"))
        topic.name = "Money for partnerships"
        db.session.commit()
    changed = client.get("/", headers={"If-None-Match": first})
    assert changed.status_code == 200
    assert "Money for partnerships" in changed.get_data(as_text=True)


def test_each_page_and_page_number_has_its_own_etag(client, slug):
    tags = {client.get(url).headers["ETag"] for url in ("/news", "/news?page=1", "/", "/bulletins")}
    assert len(tags) == 4


def test_nonsense_validators_get_the_page(client, slug):
    for headers in ({"If-None-Match": "garbage\x7f"}, {"If-Modified-Since": "yesterday"}):
        assert client.get("/", headers=headers).status_code == 200


def test_max_age_is_a_setting(app, client, slug):
    app.config["PUBLIC_CACHE_MAX_AGE"] = 60
    assert client.get("/feed.atom").headers["Cache-Control"] == "public, max-age=60"


def test_the_directory_pages_change_with_the_directory(app, client):
    with app.app_context():
        load_directory(now=TODAY)
        db.session.commit()
    first = client.get("/csps")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.last_modified == TODAY
    again = client.get("/csps", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_missing_item_is_not_cached_publicly(client, slug):
    response = client.get("/news/no-such-item")
    assert response.status_code == 404
    assert "public" not in response.headers["Cache-Control"]


@pytest.mark.parametrize("url", ["/subscribe", "/manage", "/privacy", "/staff/login"])
def test_forms_and_personal_pages_are_kept_by_no_cache(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "ETag" not in response.headers


def test_a_page_showing_a_one_off_message_is_not_cached_publicly(client, slug):
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "You are subscribed")]
    response = client.get("/")
    assert "You are subscribed" in response.get_data(as_text=True)
    assert "public" not in response.headers["Cache-Control"]


def test_a_web_process_trusts_what_it_read_for_the_set_seconds(app_settings):
    """Under a burst of clicks the database is asked once a second, not once a request: a
    change shows after at most that long (here an hour, so that it has not shown yet)."""
    from config import TestingConfig
    from mailer.app import create_app

    app = create_app(TestingConfig, {**app_settings, "PUBLIC_FRESHNESS_SECONDS": 3600})
    client = app.test_client()
    try:
        first = client.get("/")
        add_item(app, "Fresh news")
        again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
        app.config["PUBLIC_FRESHNESS_SECONDS"] = 0
        assert "Fresh news" in client.get("/").get_data(as_text=True)
    finally:
        # Its connections are closed here, as the `app` fixture closes its own.
        with app.app_context():
            db.engine.dispose()


def test_a_page_kept_in_the_process_is_served_whole(client, slug):
    first = client.get(f"/news/{slug}")
    second = client.get(f"/news/{slug}")
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == "text/html; charset=utf-8"
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
