"""Every public page in Welsh under /cy: lang="cy", the hreflang alternates both ways, the
language switch that keeps the page and its query, Welsh texts and dates, Welsh form errors,
the Welsh content fields with their note when there is none, and the Welsh feed."""

from __future__ import annotations

import html
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select

from mailer.extensions import db
from mailer.formatting import govuk_date
from mailer.formatting import govuk_datetime
from mailer.models import Bulletin
from mailer.models import BulletinState
from mailer.models import Topic
from mailer.tokens import Purpose
from mailer.tokens import subscriber_token
from tests.factories import load_directory
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import csrf_token

PUBLISHED = datetime(2013, 3, 6, 9, 5, tzinfo=UTC)
NOTE = "Nid yw'r eitem hon ar gael yn Gymraeg"


@pytest.fixture
def content(app):
    """A published item with Welsh texts, one without, a sent public bulletin, the
    directory, and a subscriber's tokens."""
    with app.app_context():
        welsh = publish_news("Funding round opens", at=PUBLISHED, summary="Apply by March.")
        welsh.title_cy = "Cylch cyllido yn agor"
        welsh.summary_cy = "Gwnewch gais erbyn mis Mawrth."
        welsh.body_markdown_cy = "Darllenwch y **canllawiau**."
        welsh.body_html_cy = "<p>Darllenwch y <strong>canllawiau</strong>.</p>"
        english = publish_news("Events this spring", at=PUBLISHED, summary="Three events.")
        funding = db.session.scalar(select(Topic).where(Topic.slug == "funding"))
        funding.name_cy = "Cyllid"
        db.session.add(
            Bulletin(
                slug="march-bulletin",
                subject="March bulletin",
                subject_cy="Bwletin mis Mawrth",
                body_markdown="Hello",
                body_html="<p>Hello</p>",
                state=BulletinState.SENT,
                public=True,
                sent_at=PUBLISHED,
                created_by="test",
                created_at=PUBLISHED,
                updated_at=PUBLISHED,
            )
        )
        subscriber = make_subscriber(now=PUBLISHED)
        tokens = {
            purpose: subscriber_token(purpose, subscriber)
            for purpose in (Purpose.CONFIRM, Purpose.MANAGE, Purpose.UNSUBSCRIBE)
        }
        slugs = {"welsh": welsh.slug, "english": english.slug}
        db.session.commit()
        load_directory(now=PUBLISHED)
    return {"slugs": slugs, "tokens": tokens}


def _public_paths(content):
    slugs, tokens = content["slugs"], content["tokens"]
    return [
        "/",
        "/subscribe",
        "/check-your-email",
        "/manage",
        "/my-data",
        "/privacy",
        "/news",
        f"/news/{slugs['welsh']}",
        f"/news/{slugs['english']}",
        "/topics/funding",
        "/bulletins",
        "/bulletins/march-bulletin",
        "/csps",
        "/csps/W14000015",
        "/csps/W14000015/suggest",
        f"/confirm/{tokens[Purpose.CONFIRM]}",
        f"/manage/{tokens[Purpose.MANAGE]}",
        f"/unsubscribe/{tokens[Purpose.UNSUBSCRIBE]}",
        "/confirm/not-a-token",
        "/no-such-page",
    ]


def test_every_public_page_answers_in_welsh_with_lang_alternates_and_the_switch(client, content):
    for path in _public_paths(content):
        welsh_path = "/cy" + path
        page = client.get(welsh_path)
        english = client.get(path)

        assert page.status_code == english.status_code, path
        assert page.status_code in (200, 400, 404), path
        assert '<html lang="cy"' in page.text, path
        assert '<html lang="en"' in english.text, path
        for answer in (page, english):
            assert f'hreflang="en" href="http://localhost{path}"' in answer.text, path
            assert f'hreflang="cy" href="http://localhost{welsh_path}"' in answer.text, path
        assert f'href="{path}" hreflang="en" lang="en">English</a>' in page.text
        assert f'href="{welsh_path}" hreflang="cy" lang="cy">Cymraeg</a>' in english.text
        assert "Neidio i'r prif gynnwys" in page.text, path
        assert "Skip to main content" not in page.text, path


def test_the_switch_keeps_the_query_string(client, content):
    page = client.get("/cy/csps?q=Caerdydd&nation=wales")

    assert 'href="/csps?q=Caerdydd&amp;nation=wales" hreflang="en"' in page.text
    assert 'hreflang="cy" href="http://localhost/cy/csps?q=Caerdydd&amp;nation=wales"' in (
        page.text
    )


def test_welsh_texts_appear_on_the_welsh_pages(client, content):
    subscribe = client.get("/cy/subscribe").text
    home = client.get("/cy/").text

    assert '<h1 class="govuk-heading-l">Tanysgrifio i gael diweddariadau newyddion</h1>' in (
        subscribe
    )
    assert "Pa mor aml ydych chi eisiau cael negeseuon e-bost?" in subscribe
    assert "Ar unwaith" in subscribe
    assert "Newyddion diweddaraf" in home
    assert "Dewislen" in home
    assert "Hawlfraint y Goron" in home or "Trwydded" in home or "Preifatrwydd" in home
    assert "Latest news" not in home


def test_dates_on_welsh_pages_are_in_welsh(client, content):
    item = client.get(f"/cy/news/{content['slugs']['welsh']}").text
    english = client.get(f"/news/{content['slugs']['welsh']}").text

    assert "6 Mawrth 2013" in item
    assert "6 March 2013" in english
    assert "6 March 2013" not in item


def test_welsh_date_formats_keep_the_english_ones():
    evening = datetime(2013, 3, 6, 15, 30, tzinfo=UTC)

    assert govuk_date(evening) == "6 March 2013"
    assert govuk_datetime(evening) == "6 March 2013 at 3:30pm"
    assert govuk_date(evening, language="cy") == "6 Mawrth 2013"
    assert govuk_datetime(PUBLISHED, language="cy") == "6 Mawrth 2013 am 9:05yb"
    assert govuk_datetime(evening, language="cy") == "6 Mawrth 2013 am 3:30yh"


def test_subscribe_form_errors_are_in_welsh(client, content):
    token = csrf_token(client, "/cy/subscribe")
    response = client.post("/cy/subscribe", data={"csrf_token": token, "email": "not an address"})

    assert response.status_code == 400
    assert "Mae problem wedi codi" in response.text
    assert "Rhowch gyfeiriad e-bost yn y fformat cywir, fel enw@enghraifft.com" in response.text
    assert "Dewiswch o leiaf un pwnc" in response.text
    assert "Dewiswch pa mor aml rydych eisiau cael negeseuon e-bost" in response.text
    assert '<span class="govuk-visually-hidden">Gwall:</span>' in response.text
    assert "<title>Gwall: " in response.text


def test_the_welsh_item_page_uses_the_welsh_texts(client, content):
    page = client.get(f"/cy/news/{content['slugs']['welsh']}").text

    assert "Cylch cyllido yn agor" in page
    assert "Gwnewch gais erbyn mis Mawrth." in page
    assert "<p>Darllenwch y <strong>canllawiau</strong>.</p>" in page
    assert ">Cyllid</a>" in page
    assert NOTE not in page


def test_a_welsh_page_without_welsh_shows_the_english_marked_and_with_the_note(client, content):
    page = client.get(f"/cy/news/{content['slugs']['english']}").text

    assert f'<p class="govuk-body-s app-fallback-note" lang="cy"><strong>{NOTE}</strong></p>' in (
        page
    )
    assert '<h1 class="govuk-heading-l"><span lang="en">Events this spring</span></h1>' in page
    assert '<span lang="en">Three events.</span>' in page
    assert NOTE not in client.get(f"/news/{content['slugs']['english']}").text


def test_lists_use_the_welsh_titles_and_note_the_english_ones(client, content):
    for path in ("/cy/", "/cy/news", "/cy/topics/funding"):
        page = client.get(path).text
        assert "Cylch cyllido yn agor" in page, path
        assert '<span lang="en">Events this spring</span>' in page, path
        assert NOTE in page, path
    assert "Funding round opens" in client.get("/news").text


def test_bulletins_use_the_welsh_subject(client, content):
    archive = client.get("/cy/bulletins").text
    bulletin = client.get("/cy/bulletins/march-bulletin").text

    assert "Bwletin mis Mawrth" in archive
    assert "Anfonwyd <time" in archive
    assert "Bwletin mis Mawrth" in bulletin
    assert NOTE in bulletin  # its introduction has no Welsh
    assert '<div class="app-prose" lang="en"><p>Hello</p></div>' in bulletin


def test_the_directory_uses_the_ons_welsh_names_in_welsh(client, content):
    page = client.get("/cy/csps/W14000015").text
    english = client.get("/csps/W14000015").text
    listing = client.get("/cy/csps?q=Cardiff").text

    assert '<h1 class="govuk-heading-xl">Caerdydd <span' in page
    assert '<span lang="en">Cardiff</span>' in page
    assert "Partneriaeth Diogelwch Cymunedol" in page
    assert '<h1 class="govuk-heading-xl">Cardiff <span' in english
    assert '<span lang="cy">Caerdydd</span>' in english
    assert ">Caerdydd</a>" in listing


def test_the_welsh_feed_has_the_welsh_texts(client, content):
    feed = client.get("/cy/feed.atom")
    english = client.get("/feed.atom")

    assert feed.status_code == 200
    assert "<language>cy-GB</language>" in feed.text or 'xml:lang="cy-GB"' in feed.text
    assert "Cylch cyllido yn agor" in feed.text
    assert "Events this spring" in feed.text
    assert "Bwletin mis Mawrth" in feed.text
    assert "http://localhost/cy/news/" in feed.text or "/cy/news/" in feed.text
    assert "Cylch cyllido yn agor" not in english.text


def test_the_staff_area_stays_in_english(client):
    response = client.get("/cy/staff/login?next=/staff/")

    assert response.status_code == 308
    assert response.headers["Location"] == "/staff/login?next=/staff/"


def test_a_flash_message_after_saving_in_welsh_is_welsh(client, content):
    manage = f"/cy/manage/{content['tokens'][Purpose.MANAGE]}"
    token = csrf_token(client, manage)
    saved = client.post(
        manage,
        data={"csrf_token": token, "topics": ["funding"], "frequency": "weekly"},
        follow_redirects=True,
    )

    assert saved.status_code == 200
    assert "Mae eich tanysgrifiad wedi'i ddiweddaru" in html.unescape(saved.text)
    assert "Wedi tanysgrifio fel <strong>sam@example.com</strong> ers 6 Mawrth 2013" in saved.text
