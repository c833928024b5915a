"""The staff compose form with a segment: the check page counts only the readers in it, says
that people who gave no area are left out, and the worker sends exactly that many emails."""

from __future__ import annotations

import html
import re

from mailer.domain import practitioners
from mailer.extensions import db
from mailer.models import Frequency
from mailer.models import Subscriber
from tests import TODAY
from tests.factories import add_readers
from tests.factories import load_directory
from tests.helpers import send_queued
from tests.web.staff.test_bulletins import _only
from tests.web.staff.test_bulletins import _post
from tests.web.staff.test_bulletins import _write
from tests.web.staff.test_bulletins import editor  # noqa: F401 (a fixture)

CARDIFF, SWANSEA, BARNET = "W14000015", "W14000011", "E22000187"


def _text(response):
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return html.unescape(re.sub(r"\s+", " ", page))


def _readers(app):
    """Funding readers: police in Cardiff (2), council in Swansea (1), police in Barnet (3),
    and two who said nothing."""
    with app.app_context():
        load_directory(now=TODAY)
        for count, kind, code, prefix in (
            (2, "police", CARDIFF, "cdf"),
            (1, "council", SWANSEA, "swa"),
            (3, "police", BARNET, "bar"),
        ):
            profile = practitioners.parse_profile(kind, [code])
            for subscriber_id in add_readers(
                count, follows={"funding": Frequency.DAILY}, now=TODAY, prefix=prefix
            ):
                practitioners.apply_profile(db.session.get_one(Subscriber, subscriber_id), profile)
        add_readers(2, follows={"funding": Frequency.DAILY}, now=TODAY, prefix="non")
        db.session.commit()


def test_a_bulletin_to_welsh_police_is_counted_then_sent_to_them_only(app, editor, smtpd):  # noqa: F811
    _readers(app)
    form = editor.get("/staff/bulletins/new").get_data(as_text=True)
    assert "Only practitioners in these areas or organisations (optional)" in form
    assert '<optgroup label="Wales: South Wales">' in form
    response = _write(
        editor,
        topics=["funding"],
        **{"segment-nations": "wales", "segment-organisation_types": "police"},
    )
    assert response.status_code == 302
    bulletin = _only(app)
    check = _text(editor.get(f"/staff/bulletins/{bulletin.id}/send"))
    assert "2 people will get this bulletin" in check
    assert "Only those who said they work in or for: Wales, Police" in check
    assert "People who gave no area are not counted and will not get it." in check
    edit = editor.get(f"/staff/bulletins/{bulletin.id}/edit").get_data(as_text=True)
    assert 'value="wales" checked' in edit
    assert _post(editor, f"/staff/bulletins/{bulletin.id}/send", {"when": "now"}).status_code == 302
    assert send_queued(app).sent == 2
    assert sorted(m.rcpt_tos[0][:3] for m in smtpd.drain()) == ["cdf", "cdf"]


def test_an_unknown_partnership_shows_the_form_again_with_the_problem(app, editor):  # noqa: F811
    _readers(app)
    response = _write(editor, **{"segment-csps": "W14999999"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<a href="#segment-csps">' in page
    assert "There is no active partnership 'W14999999': choose from the list" in _text(response)
