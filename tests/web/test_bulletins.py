"""The public archive of bulletins and their entries in the site's Atom feed."""

from __future__ import annotations

from datetime import timedelta

from mailer.domain import bulletins
from mailer.extensions import db
from tests import TODAY
from tests.factories import publish_news
from tests.web.test_feeds import ATOM
from tests.web.test_feeds import BASE
from tests.web.test_feeds import entries
from tests.web.test_feeds import links
from tests.web.test_feeds import read_feed


def _bulletin(app, subject, *, public=True, sent_at=TODAY, send=True, items=()):
    with app.app_context():
        featured = [publish_news(title, at=TODAY - timedelta(days=1)) for title in items]
        content = bulletins.validate(
            subject=subject,
            body="Dear partners,\n\nThe **winter round** is open.",
            everyone=True,
            topic_slugs=[],
            item_ids=[item.id for item in featured],
            public=public,
        )
        bulletin = bulletins.create(content, actor="test", now=sent_at)
        if send:
            bulletins.send_now(bulletin, actor="test", now=sent_at, approval=False)
        db.session.commit()
        return bulletin.slug, [item.slug for item in featured]


def test_the_archive_lists_sent_public_bulletins_newest_first(app, client):
    _bulletin(app, "Autumn bulletin", sent_at=TODAY - timedelta(days=30))
    _bulletin(app, "Winter bulletin")
    _bulletin(app, "Email only", public=False)
    _bulletin(app, "Still a draft", send=False)
    page = client.get("/bulletins").get_data(as_text=True)
    assert page.index("Winter bulletin") < page.index("Autumn bulletin")
    assert "Email only" not in page
    assert "Still a draft" not in page
    assert 'href="/bulletins"' in client.get("/").get_data(as_text=True)


def test_a_bulletin_page_shows_its_introduction_and_featured_news(app, client):
    slug, [item_slug] = _bulletin(app, "Winter bulletin", items=["Safer Streets Fund round 6"])
    page = client.get(f"/bulletins/{slug}").get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Winter bulletin</h1>' in page
    assert "<strong>winter round</strong>" in page
    assert "25 November 2026" in page
    assert f'href="/news/{item_slug}"' in page


def test_unsent_and_email_only_bulletins_are_not_found(app, client):
    draft, _ = _bulletin(app, "Still a draft", send=False)
    private, _ = _bulletin(app, "Email only", public=False)
    for slug in (draft, private, "no-such-bulletin", "Bad Slug!"):
        assert client.get(f"/bulletins/{slug}").status_code == 404
    assert client.get("/bulletins?page=2").status_code == 404
    assert client.get("/bulletins?page=x").status_code == 404


def test_the_archive_pages_through_many_bulletins(app, client):
    for number in range(12):
        _bulletin(app, f"Bulletin {number}", sent_at=TODAY + timedelta(hours=number))
    first = client.get("/bulletins").get_data(as_text=True)
    second = client.get("/bulletins?page=2").get_data(as_text=True)
    assert "Bulletin 11" in first
    assert "Bulletin 0<" not in first
    assert "Bulletin 0<" in second


def test_public_bulletins_have_their_own_entries_in_the_site_feed(app, client):
    slug, _ = _bulletin(app, "Winter bulletin")
    _bulletin(app, "Email only", public=False)
    root = read_feed(client, "/feed.atom")
    [entry] = [e for e in entries(root) if e.findtext(f"{ATOM}title") == "Winter bulletin"]
    assert entry.findtext(f"{ATOM}id") == f"{BASE}/bulletins/{slug}"
    assert links(entry) == {"alternate": f"{BASE}/bulletins/{slug}"}
    assert entry.findtext(f"{ATOM}published") == "2026-11-25T10:00:00+00:00"
    assert "<strong>winter round</strong>" in entry.find(f"{ATOM}content").text
    assert [e.findtext(f"{ATOM}title") for e in entries(root)] == ["Winter bulletin"]
