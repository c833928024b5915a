"""Alerts, digests, bulletins and "topic ended" in each reader's language: one run with
English and Welsh readers renders each content once per language, never per reader; Welsh
readers get the Welsh content where there is some, else the English with a note."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer.delivery import messages
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_delivery
from mailer.domain import bulletins
from mailer.domain.topic_retirement import retire_topic
from mailer.extensions import db
from mailer.formatting import govuk_date
from mailer.formatting import govuk_datetime
from mailer.models import Bulletin
from mailer.models import Delivery
from mailer.models import Frequency
from mailer.models import NewsItem
from mailer.models import Topic
from tests import TODAY
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import make_digest
from tests.digests.conftest import make_due
from tests.digests.test_digest_email import _check_golden
from tests.digests.test_digest_email import _golden_view
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import link
from tests.helpers import send_queued

NOT_IN_WELSH = "Nid yw'r eitem hon ar gael yn Gymraeg"
ANN = "staff:1 ann@example.gov.uk"


@pytest.fixture
def renders(monkeypatch):
    """Count the emails rendered, by template and language."""
    calls: Counter[tuple[str, str]] = Counter()
    render_email = messages.render_email

    def counting(name, context, language="en"):
        calls[name, language] += 1
        return render_email(name, context, language)

    monkeypatch.setattr(messages, "render_email", counting)
    return calls


def _by_language(received):
    found: dict[str, list] = {"en": [], "cy": []}
    for message in received:
        found[str(message.message["Content-Language"])].append(message)
    return found


def test_one_digest_run_renders_once_per_language_and_each_reader_gets_theirs(
    app, client, smtpd, renders
):
    with app.app_context():
        add_readers(20, follows={"funding": Frequency.DAILY}, now=END, prefix="en")
        add_readers(20, follows={"funding": Frequency.DAILY}, now=END, prefix="cy", language="cy")
        item = publish_news("Safer Streets Fund round 6", at=END - timedelta(hours=1))
        slug = item.slug
        db.session.commit()
    make_digest(app)
    app.config["WORKER_BATCH_SIZE"] = 40
    assert send_queued(app, now=AFTER).sent == 40
    assert renders == {("digest", "en"): 1, ("digest", "cy"): 1}
    found = _by_language(smtpd.drain())
    assert len(found["en"]) == len(found["cy"]) == 20
    assert {m.rcpt_tos[0][:2] for m in found["cy"]} == {"cy"}

    welsh = found["cy"][0]
    assert welsh.message["Subject"] == "Newyddion PDC: 1 diweddariad (dyddiol, 25 Tachwedd 2026)"
    assert '<html lang="cy"' in welsh.html
    assert "a gyhoeddwyd rhwng 24 Tachwedd 2026 am 7:00yb a 25 Tachwedd 2026 am 7:00yb" in (
        welsh.text
    )
    assert "Cyhoeddwyd 25 Tachwedd 2026" in welsh.text
    assert "Rydych yn cael yr e-bost hwn oherwydd eich bod wedi tanysgrifio i e-bost dyddiol" in (
        welsh.text
    )
    # The item has no Welsh: its English, with the note, on the Welsh page.
    assert "Safer Streets Fund round 6" in welsh.text
    assert NOT_IN_WELSH in welsh.text
    assert NOT_IN_WELSH in welsh.html
    news_path = link(welsh.text, f"/cy/news/{slug}")
    assert client.get(news_path).status_code == 200
    assert client.get(link(welsh.text, "/cy/manage/")).status_code == 200
    assert welsh.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/cy/" not in str(welsh.message["List-Unsubscribe"])

    english = found["en"][0]
    assert english.message["Subject"] == "CSP news: 1 update (daily, 25 November 2026)"
    assert english.message["Content-Language"] == "en"
    assert NOT_IN_WELSH not in english.text + english.html
    assert "/cy/" not in english.text + english.html
    assert str(english.message["List-Id"]) == str(welsh.message["List-Id"])


def test_an_alert_goes_in_each_readers_language_rendered_once_each(app, smtpd, renders):
    with app.app_context():
        add_readers(3, follows={"funding": Frequency.IMMEDIATE}, now=END, prefix="en")
        add_readers(
            3, follows={"funding": Frequency.IMMEDIATE}, now=END, prefix="cy", language="cy"
        )
        publish_news("Safer Streets Fund round 6", at=END - timedelta(minutes=1))
        db.session.commit()
    make_due(app, END, frequencies=(Frequency.IMMEDIATE,))
    assert send_queued(app, now=END).sent == 6
    assert renders == {("alert", "en"): 1, ("alert", "cy"): 1}
    found = _by_language(smtpd.drain())
    welsh, english = found["cy"][0], found["en"][0]
    assert welsh.message["Subject"] == "Newyddion PDC: Safer Streets Fund round 6"
    assert "Cyhoeddwyd 25 Tachwedd 2026 yn Cyllid." in welsh.text
    assert "cyn gynted ag y caiff newyddion eu cyhoeddi" in welsh.text
    assert NOT_IN_WELSH in welsh.text
    assert link(welsh.html, "/cy/news/")
    assert english.message["Subject"] == "CSP news: Safer Streets Fund round 6"
    assert "Published 25 November 2026 in Funding." in english.text


def _send_bulletin(*, item=None):
    content = bulletins.validate(
        subject="Winter bulletin",
        body="Dear partners,\n\nThe **winter round** is open.",
        everyone=False,
        topic_slugs=["funding", "events"],
        item_ids=[item.id] if item else [],
        public=True,
    )
    bulletin = bulletins.create(content, actor=ANN, now=TODAY)
    return bulletin


def test_a_bulletin_goes_in_each_readers_language_rendered_once_each(app, client, smtpd, renders):
    with app.app_context():
        add_readers(2, follows={"funding": Frequency.WEEKLY}, now=TODAY, prefix="en")
        add_readers(2, follows={"funding": Frequency.WEEKLY}, now=TODAY, prefix="cy", language="cy")
        item = publish_news("Safer Streets Fund round 6", at=TODAY, summary="Bids close soon.")
        bulletin = _send_bulletin(item=item)
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    assert send_queued(app, now=TODAY).sent == 4
    assert renders == {("bulletin", "en"): 1, ("bulletin", "cy"): 1}
    found = _by_language(smtpd.drain())
    welsh = found["cy"][0]
    # No Welsh subject or body yet: the English ones, with the note.
    assert welsh.message["Subject"] == "Winter bulletin"
    assert "Yn y bwletin hwn" in welsh.text
    assert "\nYn y bwletin hwn\n----------------\n" in welsh.text.replace("\r\n", "\n")
    assert welsh.text.count(NOT_IN_WELSH) == 2
    assert "The **winter round** is open." in welsh.text
    assert "un neu fwy o'r canlynol: Cyllid, Digwyddiadau." in welsh.text
    assert "Cyhoeddwyd " in welsh.text
    assert client.get(link(welsh.text, "/cy/manage/")).status_code == 200
    assert "In this bulletin" in found["en"][0].text


def test_topic_ended_reaches_a_welsh_reader_in_welsh(app):
    with app.app_context():
        [reader] = add_readers(
            1,
            follows={"events": Frequency.WEEKLY, "consultations": Frequency.WEEKLY},
            now=TODAY,
            language="cy",
        )
        topics = {t.slug: t for t in db.session.scalars(select(Topic))}
        retire_topic(
            topics["events"], move_to=topics["funding"], tell=True, actor="test", now=TODAY
        )
        delivery = db.session.scalars(
            select(Delivery).where(Delivery.subscriber_id == reader)
        ).one()
        outgoing = compose_delivery(delivery, MailSettings.from_config(app.config), now=TODAY)
        db.session.rollback()
    data = outgoing.data.decode()
    assert "Subject: Mae newyddion Digwyddiadau wedi dod i ben" in data
    assert "Content-Language: cy" in data
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in data


@pytest.mark.skipif(
    not hasattr(NewsItem, "title_cy"), reason="the Welsh fields of news items come in 0019"
)
def test_a_welsh_reader_gets_the_welsh_title_and_summary_without_the_note(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END, language="cy")
        item = publish_news("Safer Streets Fund round 6", at=END - timedelta(hours=1))
        item.title_cy = "Cronfa Strydoedd Mwy Diogel, rownd 6"
        item.summary_cy = "Mae'r rownd ar agor."
        db.session.commit()
    make_digest(app)
    send_queued(app, now=AFTER)
    [welsh] = smtpd.drain()
    assert "Cronfa Strydoedd Mwy Diogel, rownd 6" in welsh.text
    assert "Mae'r rownd ar agor." in welsh.html
    assert NOT_IN_WELSH not in welsh.text


@pytest.mark.skipif(
    not hasattr(Bulletin, "subject_cy"), reason="the Welsh fields of bulletins come in 0019"
)
def test_a_welsh_reader_gets_the_welsh_bulletin(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.WEEKLY}, now=TODAY, language="cy")
        bulletin = _send_bulletin()
        bulletin.subject_cy = "Bwletin y gaeaf"
        bulletin.body_html_cy = "<p>Mae rownd y gaeaf <strong>ar agor</strong>.</p>"
        bulletins.send_now(bulletin, actor=ANN, now=TODAY, approval=False)
        db.session.commit()
    send_queued(app, now=TODAY)
    [welsh] = smtpd.drain()
    assert welsh.message["Subject"] == "Bwletin y gaeaf"
    assert "<strong>ar agor</strong>" in welsh.html
    assert "Mae rownd y gaeaf ar agor." in welsh.text
    assert NOT_IN_WELSH not in welsh.text


@pytest.mark.skipif(not hasattr(Topic, "name_cy"), reason="the Welsh names of topics come in 0019")
def test_a_welsh_reader_gets_the_welsh_topic_names(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END, language="cy")
        db.session.scalars(select(Topic).where(Topic.slug == "funding")).one().name_cy = "Cyllid"
        publish_news("Safer Streets Fund round 6", at=END - timedelta(hours=1))
        db.session.commit()
    make_digest(app)
    send_queued(app, now=AFTER)
    [welsh] = smtpd.drain()
    assert "\nCyllid\n======\n" in welsh.text.replace("\r\n", "\n")
    assert "e-bost dyddiol am: Cyllid." in welsh.text


def test_dates_in_welsh_keep_the_english_as_it_was():
    assert govuk_date(END) == "25 November 2026"
    assert govuk_date(END, language="cy") == "25 Tachwedd 2026"
    assert govuk_datetime(END) == "25 November 2026 at 7:00am"
    assert govuk_datetime(END, language="cy") == "25 Tachwedd 2026 am 7:00yb"
    afternoon = END + timedelta(hours=8, minutes=30)
    assert govuk_datetime(afternoon, language="cy") == "25 Tachwedd 2026 am 3:30yh"
    assert govuk_date(END.replace(month=3, day=6), language="cy") == "6 Mawrth 2026"


def test_the_welsh_daily_digest_matches_its_golden_file(app, smtpd):
    with app.app_context():
        add_readers(
            1,
            follows={"funding": Frequency.DAILY, "events": Frequency.DAILY},
            now=END,
            language="cy",
        )
        publish_news(
            "Safer Streets Fund round 6", topics=("funding",), at=END - timedelta(minutes=2)
        )
        publish_news("CSP conference", topics=("events", "funding"), at=END - timedelta(minutes=1))
        db.session.commit()
    make_digest(app)
    assert send_queued(app, now=AFTER).sent == 1
    [message] = smtpd.drain()
    _check_golden(_golden_view(message.content), "cy/daily-digest.txt")
