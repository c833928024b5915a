"""Welsh pages answer at the English path under /cy, and their links stay in Welsh."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_a_page_answers_under_cy_and_its_form_posts_back_under_cy(client: FlaskClient) -> None:
    english = client.get("/subscribe")
    welsh = client.get("/cy/subscribe")

    assert english.status_code == welsh.status_code == 200
    assert 'action="/subscribe"' in english.text
    assert 'action="/cy/subscribe"' in welsh.text


def test_the_welsh_home_page_is_cy_alone_and_with_a_slash(client: FlaskClient) -> None:
    assert client.get("/cy").status_code == 200
    assert client.get("/cy/").status_code == 200


def test_a_path_that_only_starts_with_cy_is_not_welsh(client: FlaskClient) -> None:
    assert client.get("/cymraeg").status_code == 404


def test_localised_text_falls_back_to_english_and_says_so() -> None:
    from types import SimpleNamespace

    from mailer.i18n import localised

    item = SimpleNamespace(title="Funding round", title_cy="")
    assert localised(item, "title", "en") == ("Funding round", False)
    assert localised(item, "title", "cy") == ("Funding round", True)
    item.title_cy = "Cylch cyllido"
    assert localised(item, "title", "cy") == ("Cylch cyllido", False)


def test_the_welsh_and_english_home_pages_are_kept_apart(client: FlaskClient) -> None:
    english = client.get("/")
    welsh = client.get("/cy/")

    assert english.headers["ETag"] != welsh.headers["ETag"]
    assert 'lang="en"' in english.text
    assert 'lang="cy"' in welsh.text
    assert 'lang="en"' in client.get("/").text
