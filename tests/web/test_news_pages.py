"""The public news pages as a visitor sees them: home, items, topics, archive and search."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from mailer.domain import news
from mailer.domain.demo import seed_demo
from mailer.extensions import db

PUBLISHED = datetime(2013, 3, 6, 9, 0, tzinfo=UTC)


def add_item(
    app,
    title: str,
    *,
    summary: str = "A short summary.",
    body: str = "",
    topics: tuple[str, ...] = ("funding",),
    state: str = "published",
    at: datetime = PUBLISHED,
) -> str:
    """Store one news item in `state` through the domain functions; return its slug."""
    with app.app_context():
        draft = news.validate_draft(title=title, summary=summary, body=body, topic_slugs=topics)
        item = news.create_item(draft, actor="test", now=at)
        if state in ("published", "withdrawn"):
            news.publish_item(item, actor="test", now=at)
        if state == "withdrawn":
            withdrawn = at + timedelta(hours=1)
            news.withdraw_item(item, reason="The round closed early", actor="test", now=withdrawn)
        if state == "scheduled":
            news.publish_item(item, actor="test", now=at, at=at + timedelta(days=365 * 50))
        db.session.commit()
        return item.slug


def add_items(app, count: int, *, title: str = "Item", **options) -> list[str]:
    """Store `count` published items a day apart, the last one newest; return their slugs."""
    return [
        add_item(app, f"{title} {n}", at=PUBLISHED + timedelta(days=n), **options)
        for n in range(1, count + 1)
    ]


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def titles(html: str) -> list[str]:
    """The titles of the listed items, in order."""
    return re.findall(r'<a class="govuk-link" href="/news/[^"]+">([^<]+)</a></h[23]>', html)


def test_home_shows_the_latest_items_with_summary_date_and_topics(app, client):
    with app.app_context():
        seed_demo(actor="test", now=PUBLISHED)
        db.session.commit()
    html = page(client, "/")
    assert titles(html) == [
        "Providing employment and training opportunities for offenders - Free Event for Partners",
        "IOM and social enterprise",
        "Domestic Homicide Review - Funding available for conducting reviews",
        "Tilley awards 2012 - winners announced",
        "Alcohol consultation launched",
    ]
    assert 'href="/news/iom-and-social-enterprise"' in html
    assert 'Published <time datetime="2013-03-06T09:00:00+00:00">6 March 2013</time>' in html
    assert '<strong class="govuk-tag">Reducing reoffending</strong>' in html
    assert "Congratulations to the &#39;tackling gang and youth violence&#39; team" in html
    assert 'href="/news">See all news (9 items)</a>' in html


def test_home_invites_people_to_subscribe_and_explains_what_csps_are(client):
    html = page(client, "/")
    assert 'href="/subscribe" role="button"' in html
    assert "No news has been published yet." in html
    assert "What are community safety partnerships?" in html
    assert "set up by sections 5 to 7 of the Crime and Disorder Act 1998" in html
    assert 'href="/about-csps"' in html
    assert 'href="/topics/domestic-homicide-reviews">Domestic homicide reviews</a>' in html


def test_item_page_shows_breadcrumbs_date_topics_summary_and_body(app, client):
    slug = add_item(
        app,
        "Tilley awards 2012",
        summary="The winners are announced.",
        body="## How to enter\n\nRead the **rules** on [the awards page](https://example.gov.uk).",
        topics=("events", "effective-practice"),
    )
    html = page(client, f"/news/{slug}")
    assert '<h1 class="govuk-heading-l">Tilley awards 2012</h1>' in html
    assert "<title>Tilley awards 2012 – Community Safety Partnerships news</title>" in html
    assert '<a class="govuk-breadcrumbs__link" href="/news">News</a>' in html
    assert '<p class="govuk-body-l">The winners are announced.</p>' in html
    assert ">6 March 2013</time>" in html
    assert 'href="/topics/events">Events</a>' in html
    assert 'href="/topics/effective-practice">Effective practice</a>' in html
    assert (
        'title="Events – Community Safety Partnerships news" href="/topics/events/feed.atom">'
        in html
    )
    assert "<h2>How to enter</h2>" in html
    assert '<a href="https://example.gov.uk" rel="noopener noreferrer">the awards page</a>' in html


def test_item_page_escapes_every_field_but_the_sanitised_body(app, client):
    slug = add_item(
        app,
        "Tags <b>in</b> titles",
        summary="A <script>alert(1)</script> summary",
        body='Text <script>alert(2)</script> <a href="javascript:alert(3)" onclick="x()">x</a>',
    )
    html = page(client, f"/news/{slug}")
    assert "Tags &lt;b&gt;in&lt;/b&gt; titles" in html
    assert "A &lt;script&gt;alert(1)&lt;/script&gt; summary" in html
    assert "alert(2)" not in html
    assert "javascript:" not in html
    assert "onclick" not in html


@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_items_that_are_not_published_appear_on_no_page(app, client, state):
    slug = add_item(app, f"Secret {state} plans", topics=("funding",), state=state)
    add_item(app, "Public news", topics=("funding",))
    assert "Page not found" in page(client, f"/news/{slug}", 404)
    for url in ("/", "/news", "/news?q=secret", "/news?q=plans", "/topics/funding"):
        html = page(client, url)
        assert "Secret" not in html, url
        assert slug not in html, url
    assert titles(page(client, "/topics/funding")) == ["Public news"]


def test_a_withdrawn_item_keeps_its_page_with_a_notice_but_leaves_every_list(app, client):
    slug = add_item(app, "Recalled plans", topics=("funding",), state="withdrawn")
    add_item(app, "Public news", topics=("funding",))
    html = page(client, f"/news/{slug}")
    assert "This news was withdrawn on 6 March 2013 because the round closed early." in html
    assert '<h1 class="govuk-heading-l">Recalled plans</h1>' in html
    for url in ("/", "/news", "/news?q=recalled", "/topics/funding"):
        assert slug not in page(client, url), url
    assert titles(page(client, "/topics/funding")) == ["Public news"]


def test_an_item_withdrawn_before_it_was_ever_published_has_no_page(app):
    with app.app_context():
        draft = news.validate_draft(
            title="Never out", summary="S.", body="", topic_slugs=["funding"]
        )
        item = news.create_item(draft, actor="test", now=PUBLISHED)
        news.publish_item(item, actor="test", now=PUBLISHED, at=PUBLISHED + timedelta(days=3))
        news.withdraw_item(item, reason="Cancelled", actor="test", now=PUBLISHED)
        db.session.commit()
        slug = item.slug
    assert "Page not found" in page(app.test_client(), f"/news/{slug}", 404)


@pytest.mark.parametrize(
    "url",
    [
        "/news/no-such-item",
        "/news/NOT-A-SLUG",
        "/news/%00",
        "/news/" + "a" * 500,
        "/topics/no-such-topic",
        "/topics/%00",
        "/topics/Funding",
    ],
)
def test_unknown_items_and_topics_are_not_found(client, url):
    assert "Page not found" in page(client, url, 404)


def test_topic_page_lists_the_published_items_of_that_topic_only(app, client):
    add_item(app, "Funding round opens", topics=("funding",))
    add_item(app, "Conference in Leeds", topics=("events",))
    add_item(app, "Funded event", topics=("funding", "events"), at=PUBLISHED + timedelta(days=1))
    html = page(client, "/topics/funding")
    assert '<h1 class="govuk-heading-xl">Funding</h1>' in html
    assert "Funding rounds and grants open to partnerships." in html
    assert titles(html) == ["Funded event", "Funding round opens"]
    assert "2 items" in html
    assert "No news has been published on this topic yet." in page(client, "/topics/consultations")


def test_archive_shows_ten_items_a_page_with_govuk_pagination(app, client):
    add_items(app, 23)
    first = page(client, "/news")
    assert titles(first) == [f"Item {n}" for n in range(23, 13, -1)]
    assert '<nav class="govuk-pagination" aria-label="Pagination">' in first
    assert 'href="/news?page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    assert 'href="/news?page=3" aria-label="Page 3"' in first
    middle = page(client, "/news?page=2")
    assert titles(middle) == [f"Item {n}" for n in range(13, 3, -1)]
    assert 'href="/news" rel="prev"' in middle
    assert 'aria-label="Page 2" aria-current="page"' in middle
    last = page(client, "/news?page=3")
    assert titles(last) == ["Item 3", "Item 2", "Item 1"]
    assert 'rel="next"' not in last
    assert "<title>All news (page 3 of 3) – " in last


def test_pagination_shows_an_ellipsis_for_two_or_more_hidden_pages(app, client):
    add_items(app, 95)
    html = page(client, "/news?page=5")
    assert re.findall(r'aria-label="Page (\d+)"', html) == ["1", "4", "5", "6", "10"]
    assert html.count("govuk-pagination__item--ellipsis") == 2
    html = page(client, "/news?page=4")
    assert re.findall(r'aria-label="Page (\d+)"', html) == ["1", "2", "3", "4", "5", "10"]
    assert html.count("govuk-pagination__item--ellipsis") == 1


@pytest.mark.parametrize(
    "value", ["0", "-1", "abc", "", "1.5", "1e3", "²", "99999999999999999999", "10001"]
)
def test_bad_page_numbers_are_not_found(app, client, value):
    add_items(app, 3)
    assert "Page not found" in page(client, f"/news?page={value}", 404)
    assert "Page not found" in page(client, f"/topics/funding?page={value}", 404)


def test_a_page_past_the_last_is_not_found_but_an_empty_first_page_is_fine(app, client):
    assert "No news has been published yet." in page(client, "/news")
    assert "No news has been published yet." in page(client, "/news?page=1")
    page(client, "/news?page=2", 404)
    add_items(app, 10)
    page(client, "/news?page=2", 404)


def test_search_matches_every_word_in_titles_and_summaries(app, client):
    add_item(app, "Alcohol consultation launched", summary="Views on minimum unit pricing.")
    add_item(app, "Funding for reviews", summary="Domestic homicide reviews funding.")
    add_item(
        app,
        "Events",
        summary="A consultation event on alcohol harm.",
        at=datetime(2012, 1, 1, tzinfo=UTC),
    )
    assert titles(page(client, "/news?q=ALCOHOL")) == ["Alcohol consultation launched", "Events"]
    assert titles(page(client, "/news?q=alcohol+pricing")) == ["Alcohol consultation launched"]
    html = page(client, "/news?q=homicide")
    assert titles(html) == ["Funding for reviews"]
    assert "1 result for <strong>‘homicide’</strong>" in html
    assert 'value="homicide"' in html
    assert "There is no news matching your search." in page(client, "/news?q=nothing")


@pytest.mark.parametrize(
    ("query", "echoed"),
    [
        ("%", "%"),
        ("_", "_"),
        ("\\", "\\"),
        ("100%", "100%"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('"><img src=x onerror=alert(1)>', "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        ("'; DROP TABLE news_items; --", "&#39;; DROP TABLE news_items; --"),
        ("nul\x00byte", "nul byte"),
        ("x" * 1000, "x" * 200),
    ],
)
def test_hostile_searches_match_literally_and_are_echoed_escaped(app, client, query, echoed):
    add_item(app, "Fully funded", summary="Covers 100% of the cost.")
    add_item(app, "Plain news", summary="Nothing special in here.")
    response = client.get("/news", query_string={"q": query})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'value="{echoed}"' in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    expected = ["Fully funded"] if "%" in query else []
    assert titles(html) == expected


def test_search_results_keep_the_query_in_pagination_links(app, client):
    add_items(app, 12, title="Funding news")
    add_items(app, 3, title="Other")
    html = page(client, "/news?q=funding")
    assert "12 results for" in html
    assert 'href="/news?page=2&amp;q=funding" rel="next"' in html
    assert titles(page(client, "/news?q=funding&page=2")) == ["Funding news 2", "Funding news 1"]


def test_pages_use_govuk_frontend_and_announce_their_feeds(client):
    html = page(client, "/topics/funding")
    assert '<link rel="stylesheet" href="/assets/govuk-frontend.min.css?v=6.6.0">' in html
    assert '<script src="/static/js-enabled.js"></script>' in html
    assert 'data-govuk-frontend="/assets/govuk-frontend.min.js?v=6.6.0"' in html
    assert '<a href="#main-content" class="govuk-skip-link"' in html
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/feed.atom">' in html
    assert 'href="/topics/funding/feed.atom">' in html
    assert 'aria-current="true"' in html


def test_every_public_page_announces_the_site_feed(client):
    for url in ("/", "/news", "/subscribe", "/manage"):
        html = page(client, url)
        assert (
            '<link rel="alternate" type="application/atom+xml" '
            'title="Community Safety Partnerships news" href="/feed.atom">'
        ) in html, url


@pytest.mark.parametrize(
    ("path", "content_type", "text"),
    [
        ("govuk-frontend.min.css", "text/css", ".govuk-header"),
        ("govuk-frontend.min.js", "javascript", "initAll"),
        ("images/favicon.svg", "image/svg+xml", "<svg"),
        ("manifest.json", "json", "icons"),
    ],
)
def test_assets_serve_the_govuk_frontend_files(client, path, content_type, text):
    with client.get(f"/assets/{path}") as response:
        assert response.status_code == 200
        assert content_type in response.content_type
        assert text in response.get_data(as_text=True)


def test_versioned_asset_urls_may_be_cached_for_a_year(client):
    with client.get("/assets/govuk-frontend.min.css?v=6.6.0") as response:
        assert response.headers["Cache-Control"] == "public, max-age=31536000"
    for url in ("/assets/govuk-frontend.min.css", "/assets/govuk-frontend.min.css?v=1.0.0"):
        with client.get(url) as response:
            assert "max-age=31536000" not in response.headers.get("Cache-Control", ""), url


def test_assets_serve_the_fonts_the_stylesheet_asks_for(client):
    with client.get("/assets/govuk-frontend.min.css") as response:
        fonts = re.findall(r"url\((/assets/fonts/[^)]+\.woff2?)\)", response.get_data(as_text=True))
    assert len(fonts) == 4
    for font in fonts:
        with client.get(font) as response:
            assert (response.status_code, response.mimetype) == (200, f"font/{font.split('.')[-1]}")


@pytest.mark.parametrize(
    "path", ["../package.json", "..%2fpackage.json", "index.scss", "nothing.css", "%00"]
)
def test_assets_serve_nothing_else(client, path):
    with client.get(f"/assets/{path}") as response:
        assert response.status_code == 404


def test_pages_use_system_fonts_and_no_crown_by_default(client):
    html = page(client, "/")
    assert 'class="govuk-template app-template--system-font"' in html
    assert "govuk-generic-header" in html
    assert "govuk-header__logotype" not in html
    assert "govuk-footer__crown" not in html
    assert "Crown copyright" not in html
    assert "/assets/images/favicon" not in html


@pytest.fixture
def govuk_brand(app_settings):
    """Turn GOVUK_BRAND on for the app built after this fixture."""
    app_settings["GOVUK_BRAND"] = True


def test_the_govuk_brand_setting_turns_on_the_crown_and_typeface(govuk_brand, client):
    html = page(client, "/")
    assert 'class="govuk-template"' in html
    assert "app-template--system-font" not in html
    assert 'class="govuk-header__logotype" aria-label="GOV.UK"' in html
    assert "govuk-footer__crown" in html
    assert "© Crown copyright" in html
    assert "<title>Community Safety Partnerships news – GOV.UK</title>" in html


def test_system_font_override_is_in_the_stylesheet(client):
    with client.get("/static/app.css") as response:
        css = response.get_data(as_text=True)
    assert '.app-template--system-font [class*="govuk-"]' in css
    assert "system-ui" in css


def test_error_pages_link_home_inside_the_page_template(client):
    html = page(client, "/no-such-page", 404)
    assert 'href="/">Go to the home page</a>' in html
    assert 'class="govuk-service-navigation"' in html
