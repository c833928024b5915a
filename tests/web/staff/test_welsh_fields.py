"""Staff write the Welsh of news items, bulletins and topics beside the English: the editors
show both, save them (the Welsh body rendered and sanitised as the English is), and the API
takes and gives the Welsh of news items."""

from __future__ import annotations

from sqlalchemy import select

from mailer import clock
from mailer.database import transaction
from mailer.domain import staff
from mailer.extensions import db
from mailer.models import Bulletin
from mailer.models import NewsItem
from mailer.models import StaffRole
from mailer.models import Topic
from tests import TODAY
from tests.helpers import ADMIN
from tests.helpers import csrf_token
from tests.helpers import logged_in

NEWS = {
    "title": "Funding round opens",
    "summary": "Apply by 6 February.",
    "body": "Read **the guidance**.",
    "topics": ["funding"],
}
WELSH = {
    "title_cy": "Cylch cyllido yn agor",
    "summary_cy": "Gwnewch gais erbyn 6 Chwefror.",
    "body_cy": "Darllenwch **y canllawiau**.<script>alert(1)</script>",
}


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _last(app, model):
    with app.app_context():
        found = db.session.scalar(select(model).order_by(model.id.desc()))
        db.session.expunge(found)
        return found


def test_the_news_editor_shows_welsh_beside_english_and_saves_it(app, client):
    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=TODAY)
    form = client.get("/staff/news/new").text

    assert '<h2 class="govuk-heading-m">Welsh (Cymraeg)</h2>' in form
    assert 'id="title_cy" name="title_cy" type="text" lang="cy"' in form
    assert form.index('id="body"') < form.index('id="title_cy"')

    saved = _post(client, "/staff/news/new", NEWS | WELSH)
    assert saved.status_code == 302
    item = _last(app, NewsItem)
    assert (item.title_cy, item.summary_cy) == (WELSH["title_cy"], WELSH["summary_cy"])
    assert item.body_markdown_cy == WELSH["body_cy"]
    assert item.body_html_cy == "<p>Darllenwch <strong>y canllawiau</strong>.</p>\n"

    edit = client.get(f"/staff/news/{item.id}/edit").text
    assert 'value="Cylch cyllido yn agor"' in edit
    _post(client, f"/staff/news/{item.id}/edit", NEWS | WELSH | {"title_cy": "", "body_cy": ""})
    item = _last(app, NewsItem)
    assert (item.title_cy, item.body_html_cy) == ("", "")
    assert item.summary_cy == WELSH["summary_cy"]


def test_a_bad_welsh_field_shows_the_form_again_with_its_error(app, client):
    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=TODAY)

    response = _post(client, "/staff/news/new", NEWS | {"title_cy": "Un\nllinell", "title": ""})

    assert response.status_code == 400
    assert "Welsh title must not contain control characters or line breaks" in response.text
    assert "Enter a title" in response.text
    assert 'value="Un' in response.text


def test_bulletin_and_topic_editors_save_their_welsh(app, client):
    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=TODAY)

    bulletin = _post(
        client,
        "/staff/bulletins/new",
        {"subject": "March", "subject_cy": "Mawrth", "body": "Hi", "body_cy": "*Helo*"}
        | {"audience": "everyone", "public": "yes"},
    )
    topic = _post(
        client,
        "/staff/topics/funding/edit",
        {"name": "Funding", "description": "Grants", "slug": "funding", "heading": ""}
        | {"name_cy": "Cyllid", "description_cy": "Grantiau"},
    )

    assert bulletin.status_code == topic.status_code == 302
    found = _last(app, Bulletin)
    assert (found.subject_cy, found.body_html_cy) == ("Mawrth", "<p><em>Helo</em></p>\n")
    with app.app_context():
        funding = db.session.scalar(select(Topic).where(Topic.slug == "funding"))
        assert (funding.name_cy, funding.description_cy) == ("Cyllid", "Grantiau")
    assert 'value="Cyllid"' in client.get("/staff/topics/funding/edit").text


def test_the_api_takes_and_gives_the_welsh_of_a_news_item(app, client):
    with app.app_context(), transaction():
        key = staff.create_api_key("cms", created_by=None, actor="test", now=clock.now())
        auth = {"Authorization": f"Bearer {key.plaintext}"}

    created = client.post("/api/v1/news", json=NEWS | WELSH, headers=auth)
    assert created.status_code == 201
    body = created.get_json()
    assert body["title_cy"] == "Cylch cyllido yn agor"
    assert body["body_html_cy"] == "<p>Darllenwch <strong>y canllawiau</strong>.</p>\n"

    changed = client.patch(f"/api/v1/news/{body['id']}", json={"title_cy": ""}, headers=auth)
    assert changed.get_json()["title_cy"] == ""
    assert changed.get_json()["summary_cy"] == WELSH["summary_cy"]

    refused = client.post("/api/v1/news", json=NEWS | {"summary_cy": 7}, headers=auth)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"summary_cy": "Welsh summary must be text"}
