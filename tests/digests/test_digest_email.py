"""The digest a reader receives: subject, items under their topics, cap, size, footer, links."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from mailer.extensions import db
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import deliveries
from tests.digests.conftest import make_digest
from tests.digests.conftest import run_state
from tests.digests.conftest import withdraw
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import link
from tests.helpers import send_queued

GOLDEN = Path(__file__).parent / "golden"
# Monday 30 November 2026, 07:00 in London: a weekly period ends.
WEEK_END = END + timedelta(days=5)
HOUR = timedelta(hours=1)
FUNDING_AND_EVENTS = {"funding": Frequency.DAILY, "events": Frequency.DAILY}


def _publish(*titles, topics=("funding",), end=END):
    """Publish items an hour apart, the first the longest ago; return their ids."""
    return [
        publish_news(title, topics=topics, at=end - timedelta(hours=len(titles) - n)).id
        for n, title in enumerate(titles)
    ]


def _daily_email(app, smtpd, follows=FUNDING_AND_EVENTS, **items):
    """One reader, items given as title=topics published a minute apart in that order, the
    daily digest sent: return its one email."""
    with app.app_context():
        add_readers(1, follows=follows, now=END)
        for n, (title, topics) in enumerate(items.items()):
            at = END - timedelta(minutes=len(items) - n)
            publish_news(title.replace("_", " "), topics=topics, at=at)
        db.session.commit()
    make_digest(app)
    assert send_queued(app, now=AFTER).sent == 1
    [message] = smtpd.drain()
    return message


@pytest.mark.parametrize(("count", "subject"), [(1, "1 update"), (2, "2 updates")])
def test_the_subject_counts_the_updates(app, smtpd, count, subject):
    items = {f"Item_{n}": ("funding",) for n in range(count)}
    message = _daily_email(app, smtpd, **items)
    assert message.message["Subject"] == f"CSP news: {subject} (daily, 25 November 2026)"


def test_a_weekly_digest_names_its_frequency_and_the_day_it_ends(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"events": Frequency.WEEKLY}, now=END)
        _publish("Conference", "Workshop", topics=("events",), end=WEEK_END)
        db.session.commit()
    make_digest(app, Frequency.WEEKLY, WEEK_END, now=WEEK_END)
    send_queued(app, now=WEEK_END)
    [message] = smtpd.drain()
    assert message.message["Subject"] == "CSP news: 2 updates (weekly, 30 November 2026)"
    assert "published between 23 November 2026 at 7:00am and 30 November 2026 at 7:00am" in (
        message.text
    )
    assert "you subscribed to a weekly email about: Events." in message.text


def test_items_are_grouped_under_their_topics_in_topic_order(app, smtpd):
    follows = {"consultations": Frequency.DAILY, **FUNDING_AND_EVENTS}
    message = _daily_email(
        app,
        smtpd,
        follows=follows,
        Consultation_on_ASB_powers=("consultations",),
        CSP_conference=("events",),
        Safer_Streets_Fund=("funding",),
        Fund_for_events=("events", "funding"),
    )
    lines = message.text.splitlines()
    headings = [lines[n - 1] for n, line in enumerate(lines) if line and set(line) == {"="}]
    assert headings == ["Funding", "Events", "Consultations"]
    known = {
        "Consultation on ASB powers",
        "CSP conference",
        "Safer Streets Fund",
        "Fund for events",
    }
    titles = [line for line in lines if line in known or line in headings]
    # Newest first within a topic; an item in two topics sits under the first of them.
    assert titles == [
        "Funding",
        "Fund for events",
        "Safer Streets Fund",
        "Events",
        "CSP conference",
        "Consultations",
        "Consultation on ASB powers",
    ]
    html_headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", message.html)
    assert html_headings == ["Funding", "Events", "Consultations"]
    html_titles = re.findall(r"<h3[^>]*><a [^>]*>([^<]+)</a></h3>", message.html)
    assert html_titles == [line for line in titles if line not in headings]


def test_titles_and_summaries_are_escaped_in_the_html_part(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END)
        publish_news("Fund <b>& grants</b>", summary="<script>x()</script>", at=AFTER - HOUR)
        db.session.commit()
    make_digest(app)
    send_queued(app, now=AFTER)
    [message] = smtpd.drain()
    assert "Fund &lt;b&gt;&amp; grants&lt;/b&gt;" in message.html
    assert "&lt;script&gt;x()&lt;/script&gt;" in message.html
    assert "<script>" not in message.html
    assert "Fund <b>& grants</b>" in message.text


def test_the_footer_names_the_readers_topics_and_frequency(app, smtpd):
    follows = {**FUNDING_AND_EVENTS, "consultations": Frequency.WEEKLY}
    message = _daily_email(app, smtpd, follows=follows, Safer_Streets_Fund=("funding",))
    footer = "You are getting this email because you subscribed to a daily email about: "
    assert f"{footer}Funding, Events." in message.text
    assert f"{footer}Funding, Events." in message.html


def test_the_list_headers_and_links_manage_and_unsubscribe_the_reader(app, smtpd, client):
    message = _daily_email(app, smtpd, Safer_Streets_Fund=("funding",))
    headers = message.message
    assert headers["List-Id"] == app.config["LIST_ID"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = link(message.text, "/unsubscribe/")
    manage = link(message.text, "/manage/")
    assert headers["List-Unsubscribe"].startswith(f"<{app.config['BASE_URL']}{unsubscribe}>, ")
    assert "<mailto:" in headers["List-Unsubscribe"]
    assert link(message.html, "/unsubscribe/") == unsubscribe
    assert link(message.html, "/manage/") == manage
    assert client.get(manage).status_code == 200
    assert client.get(unsubscribe).status_code == 200
    assert _status(app) is SubscriberStatus.ACTIVE
    answer = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert _status(app) is SubscriberStatus.UNSUBSCRIBED


def _status(app):
    with app.app_context():
        return db.session.scalars(db.select(Subscriber.status)).one()


def test_a_digest_past_the_cap_lists_the_newest_and_links_to_the_rest(app, smtpd, client):
    app.config["DIGEST_MAX_ITEMS"] = 3
    message = _daily_email(app, smtpd, **{f"Item_{n}": ("funding",) for n in range(1, 6)})
    assert message.message["Subject"] == "CSP news: 5 updates (daily, 25 November 2026)"
    listed = [line for line in message.text.splitlines() if line.startswith("Item ")]
    assert listed == ["Item 5", "Item 4", "Item 3"]
    lines = message.text.splitlines()
    more = lines.index("And 2 more updates on the website:")
    assert lines[more + 1] == f"{app.config['BASE_URL']}/news"
    assert client.get("/news").status_code == 200
    assert re.search(
        r'<a href="[^"]+/news"[^>]*>And 2 more updates on the website</a>', message.html
    )


def test_a_digest_of_twenty_longest_items_stays_small_with_short_lines(app, smtpd):
    # Ampersands and non-ASCII letters grow most in HTML escaping and quoted-printable.
    title = ("Fund & grant: café £5k " * 10)[:200]
    summary = ("Partners’ bids & reviews — naïve “quotes” ok. " * 14)[:600]
    assert (len(title), len(summary)) == (200, 600)
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END)
        for n in range(20):
            publish_news(title, summary=summary, at=END - timedelta(minutes=n + 1))
        db.session.commit()
    make_digest(app)
    send_queued(app, now=AFTER)
    [received] = smtpd.drain()
    assert received.message["Subject"] == "CSP news: 20 updates (daily, 25 November 2026)"
    assert len(received.content) < 100_000
    assert max(len(line) for line in received.content.split(b"\r\n")) <= 998
    assert received.text.count(title) == 20
    assert received.html.count(summary.replace("&", "&amp;")) == 20


def test_an_item_withdrawn_after_the_run_was_made_is_left_out(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END)
        kept, withdrawn = _publish("Kept", "Withdrawn")
        db.session.commit()
    make_digest(app)
    withdraw(app, withdrawn)
    send_queued(app, now=AFTER)
    [message] = smtpd.drain()
    assert message.message["Subject"] == "CSP news: 1 update (daily, 25 November 2026)"
    assert "Kept" in message.text
    assert "Withdrawn" not in message.text
    assert "Withdrawn" not in message.html


def test_a_reader_whose_only_item_was_withdrawn_gets_no_email(app, smtpd):
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END)
        add_readers(1, follows={"events": Frequency.DAILY}, domain="events.example", now=END)
        [withdrawn] = _publish("Withdrawn")
        _publish("Conference", topics=("events",))
        db.session.commit()
    run_id = make_digest(app)[0]
    withdraw(app, withdrawn)
    send_queued(app, now=AFTER)
    assert [m.rcpt_tos for m in smtpd.drain()] == [["reader1@events.example"]]
    assert deliveries(app, run_id) == [
        ("reader0@example.org", DeliveryStatus.CANCELLED),
        ("reader1@events.example", DeliveryStatus.SENT),
    ]
    assert run_state(app, run_id) == "done"


def _normalise(text):
    """Replace the link tokens, which change with every run, by TOKEN."""
    text = re.sub(r"/(manage|unsubscribe)/[\w.-]+", r"/\1/TOKEN", text)
    return re.sub(r"subject=unsubscribe%20[\w.-]+", "subject=unsubscribe%20TOKEN", text)


def _golden_view(raw):
    message = message_from_bytes(raw, policy=default_policy)
    names = (
        "From",
        "To",
        "Subject",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Auto-Submitted",
    )
    headers = [f"{name}: {_normalise(str(message[name]))}" for name in names]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return "\n".join(headers) + "\n\n" + _normalise(text)


def _golden_digest(app, smtpd):
    return _daily_email(
        app,
        smtpd,
        Safer_Streets_Fund_round_6=("funding",),
        CSP_conference=("events", "funding"),
        Neighbourhood_watch_workshop=("events",),
        Domestic_homicide_review_guidance=("domestic-homicide-reviews",),
    )


def _check_golden(view, name):
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(view)
    assert view == path.read_text()


def test_the_daily_digest_matches_its_golden_file(app, smtpd):
    _check_golden(_golden_view(_golden_digest(app, smtpd).content), "daily-digest.txt")


def test_the_html_of_the_daily_digest_matches_its_golden_file(app, smtpd):
    html = _golden_digest(app, smtpd).html.replace("\r\n", "\n")
    _check_golden(_normalise(html), "daily-digest.html")


def test_a_digest_too_heavy_for_mail_clients_lists_fewer_items_and_links_to_the_rest(app, smtpd):
    # Every "€" is three bytes of UTF-8 and nine of quoted-printable, in both parts.
    title = "€" * 200
    summary = "€" * 600
    with app.app_context():
        add_readers(1, follows={"funding": Frequency.DAILY}, now=END)
        for n in range(20):
            publish_news(f"{title[:-3]}{n:03}", summary=summary, at=END - timedelta(minutes=n + 1))
        db.session.commit()
    make_digest(app)
    send_queued(app, now=AFTER)
    [received] = smtpd.drain()
    body = received.content.partition(b"\r\n\r\n")[2]
    assert len(body) < 100_000
    listed = received.text.count(summary)
    assert 1 <= listed < 20
    assert received.message["Subject"] == "CSP news: 20 updates (daily, 25 November 2026)"
    assert f"And {20 - listed} more updates on the website" in received.text
