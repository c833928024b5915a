"""The admins' deliverability pages: suppression list, unreadable mail, bounces over time,
and what came back from each send run."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer import clock
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.domain import suppressions
from mailer.domain.deliverability import SHOWN_BYTES
from mailer.domain.subscriptions import Origin
from mailer.domain.subscriptions import unsubscribe
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import BounceEvent
from mailer.models import BounceKind
from mailer.models import Delivery
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import InboundMessage
from mailer.models import MessageKind
from mailer.models import RunState
from mailer.models import SendRun
from mailer.models import StaffRole
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Suppression
from mailer.models import SuppressionReason
from tests import TODAY
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.factories import queue_emails
from tests.helpers import ADMIN
from tests.helpers import EDITOR
from tests.helpers import count_again
from tests.helpers import csrf_token
from tests.helpers import login
from tests.helpers import make_staff
from tests.helpers import send_queued
from tests.helpers import subscribe

# Wednesday 15 July 2026, 1pm in London (BST, an hour ahead of UTC).
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
ADMIN_PAGES = ("/staff/suppressions", "/staff/inbound", "/staff/deliverability")


@pytest.fixture
def at(monkeypatch):
    """Set the wall clock the pages read: at(when)."""

    def set_now(when):
        monkeypatch.setattr(clock, "now", lambda: when)

    set_now(NOW)
    return set_now


def _suppress(app, email, reason=SuppressionReason.HARD_BOUNCE, *, now=NOW, detail=""):
    with app.app_context():
        suppressions.suppress(email, reason, detail=detail, actor="bounce-inbox", now=now)
        db.session.commit()
        return suppressions.find(email).id


def _add(client, email, note="", *, token=True):
    data = {"email": email, "note": note}
    if token:
        data["csrf_token"] = csrf_token(client, "/staff/suppressions")
    return client.post("/staff/suppressions", data=data)


def _remove(client, suppression_id, **fields):
    url = f"/staff/suppressions/{suppression_id}/remove"
    return client.post(url, data={"csrf_token": csrf_token(client, url), **fields})


def _rows(page, table_id):
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return table.split('<tr class="govuk-table__row"')[2:]


def _listed(app):
    with app.app_context():
        return {entry.email: entry.reason for entry in db.session.scalars(select(Suppression))}


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _error_summary(page):
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)


# The suppression list


def test_admins_see_the_list_newest_first_with_reasons_in_words(app, admin):
    _suppress(app, "old@example.com", now=NOW - timedelta(days=2), detail="5.1.1 no such user")
    _suppress(app, "spam@example.com", SuppressionReason.COMPLAINT, now=NOW - timedelta(days=1))
    erased = _suppress(app, "gone@example.com", SuppressionReason.SOFT_BOUNCES, now=NOW)
    with app.app_context():
        db.session.get_one(Suppression, erased).email = None
        db.session.commit()

    page = admin.get("/staff/suppressions").get_data(as_text=True)
    rows = _rows(page, "suppressions")
    assert len(rows) == 3
    assert "erased" in rows[0]
    assert "gone@example.com" not in page
    assert "Repeated soft bounces" in rows[0]
    assert "spam@example.com" in rows[1]
    assert "Reported as spam" in rows[1]
    assert "old@example.com" in rows[2]
    assert "Hard bounce" in rows[2]
    assert "5.1.1 no such user" in rows[2]
    assert "13 July 2026 at 1:00pm" in rows[2]
    assert "bounce-inbox" in rows[2]
    assert "3 addresses, newest first" in page
    assert 'href="/staff/suppressions" aria-current="page">Suppression list</a>' in page


def test_the_list_shows_fifty_a_page(app, admin):
    with app.app_context():
        for n in range(51):
            suppressions.suppress(
                f"reader{n}@example.com",
                SuppressionReason.HARD_BOUNCE,
                actor="test",
                now=NOW + timedelta(minutes=n),
            )
        db.session.commit()
    first = admin.get("/staff/suppressions").get_data(as_text=True)
    assert len(_rows(first, "suppressions")) == 50
    assert "reader50@example.com" in first
    assert "reader0@example.com" not in first
    assert "51 addresses, page 1 of 2" in first
    assert 'href="/staff/suppressions?page=2"' in first
    second = admin.get("/staff/suppressions?page=2").get_data(as_text=True)
    rows = _rows(second, "suppressions")
    assert len(rows) == 1
    assert "reader0@example.com" in rows[0]


def test_a_search_finds_an_address_in_any_case_and_says_when_it_is_not_there(app, admin):
    _suppress(app, "Someone@Example.com")
    _suppress(app, "other@example.com")
    page = admin.get("/staff/suppressions?q=+someone@EXAMPLE.com+").get_data(as_text=True)
    rows = _rows(page, "suppressions")
    assert len(rows) == 1
    assert "Someone@Example.com" in rows[0]
    assert "On the list" in page

    page = admin.get("/staff/suppressions?q=nobody@example.com").get_data(as_text=True)
    assert "Not on the list" in page
    assert "nobody@example.com is not on the suppression list" in page
    assert 'id="suppressions"' not in page

    response = admin.get("/staff/suppressions?q=not-an-address")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _error_summary(page) == [
        ("q", "Enter an email address in the correct format, like name@example.com")
    ]
    assert 'value="not-an-address"' in page


def test_editors_get_403_on_every_deliverability_page(app, client):
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)
    entry = _suppress(app, "someone@example.com")
    login(client, EDITOR)
    for path in (*ADMIN_PAGES, f"/staff/suppressions/{entry}/remove", "/staff/inbound/1"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "You do not have permission" in response.get_data(as_text=True)
    token = csrf_token(client, "/staff/")
    for path in (
        "/staff/suppressions",
        f"/staff/suppressions/{entry}/remove",
        "/staff/inbound/1/handled",
    ):
        data = {"csrf_token": token, "email": "x@example.com", "reason": "because"}
        assert client.post(path, data=data).status_code == 403, path
    assert _listed(app) == {"someone@example.com": SuppressionReason.HARD_BOUNCE}
    nav = client.get("/staff/").get_data(as_text=True)
    assert "/staff/suppressions" not in nav


def test_strangers_are_sent_to_the_login_page(client):
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/staff/login?next={path}"


def test_adding_an_address_suppresses_it_and_is_audited(app, admin, at):
    response = _add(admin, " Person@Example.COM ", "asked by phone")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/suppressions"
    page = admin.get("/staff/suppressions").get_data(as_text=True)
    assert "Added Person@example.com to the suppression list" in page
    row = _rows(page, "suppressions")[0]
    assert "Person@example.com" in row
    assert "Added by staff" in row
    assert "asked by phone" in row
    assert f"staff:1 {ADMIN}" in row
    assert _listed(app) == {"Person@example.com": SuppressionReason.MANUAL}
    [event] = _audit(app, "suppression.add")
    assert event.actor == f"staff:1 {ADMIN}"
    assert event.detail == {"reason": "manual"}
    assert event.at == NOW


@pytest.mark.parametrize(
    ("email", "note", "errors"),
    [
        ("", "", [("email", "Enter your email address")]),
        (
            "not an address",
            "",
            [("email", "Enter an email address in the correct format, like name@example.com")],
        ),
        ("ok@example.com", "x" * 1001, [("note", "Must be 1,000 characters or fewer")]),
    ],
)
def test_a_bad_address_or_note_shows_the_error_summary(app, admin, email, note, errors):
    response = _add(admin, email, note)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _error_summary(page) == errors
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Error: Suppression list" in page
    assert _listed(app) == {}


def test_an_address_already_listed_is_left_as_it_was(app, admin):
    _suppress(app, "bounced@example.com", detail="5.1.1")
    response = _add(admin, "BOUNCED@example.com", "again")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert _error_summary(page) == [
        ("email", "BOUNCED@example.com is already on the suppression list; nothing was changed")
    ]
    # The entry that is there already is shown.
    [row] = _rows(page, "suppressions")
    assert "Hard bounce" in row
    assert "5.1.1" in row
    assert _listed(app) == {"bounced@example.com": SuppressionReason.HARD_BOUNCE}
    assert len(_audit(app, "suppression.add")) == 1


def test_adding_without_the_form_token_is_refused(app, admin):
    response = _add(admin, "person@example.com", token=False)
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)
    assert _listed(app) == {}


def test_an_added_address_is_refused_at_sign_up(app, admin, smtpd):
    assert _add(admin, "blocked@example.com").status_code == 302
    response = subscribe(admin, "Blocked@Example.com")
    # The same answer as for anyone, so the list cannot be probed from the form.
    assert response.headers["Location"] == "/check-your-email"
    send_queued(app)
    assert smtpd.drain() == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_an_added_subscriber_stops_getting_mail_at_once(app, admin, smtpd):
    with app.app_context():
        [delivery_id] = queue_emails(1, domain="example.net", now=TODAY)
    assert _add(admin, "READER0@example.net").status_code == 302
    with app.app_context():
        subscriber = db.session.scalars(select(Subscriber)).one()
        assert subscriber.status is SubscriberStatus.SUPPRESSED
        delivery = db.session.get_one(Delivery, delivery_id)
        assert delivery.status is DeliveryStatus.CANCELLED
    assert send_queued(app).sent == 0
    assert smtpd.drain() == []


# Taking an address off the list


def test_removing_needs_a_reason(app, admin):
    entry = _suppress(app, "person@example.com")
    url = f"/staff/suppressions/{entry}/remove"
    page = admin.get(url).get_data(as_text=True)
    assert "person@example.com" in page
    assert "Hard bounce" in page
    for reason in ("", "   \x00 "):
        response = _remove(admin, entry, reason=reason)
        assert response.status_code == 400
        errors = _error_summary(response.get_data(as_text=True))
        assert errors == [("reason", "Say why the address may be mailed again")]
    assert _listed(app) == {"person@example.com": SuppressionReason.HARD_BOUNCE}
    assert _audit(app, "suppression.remove") == []


def test_removing_with_a_reason_takes_it_off_and_is_audited(app, admin, at):
    with app.app_context():
        make_subscriber(email="person@example.com", now=TODAY)
        db.session.commit()
    entry = _suppress(app, "person@example.com")
    response = _remove(admin, entry, reason="Mailbox  fixed,\nconfirmed by phone")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/suppressions"
    page = admin.get("/staff/suppressions").get_data(as_text=True)
    assert "Took person@example.com off the suppression list" in page
    assert "The list is empty" in page
    assert _listed(app) == {}
    [event] = _audit(app, "suppression.remove")
    assert event.actor == f"staff:1 {ADMIN}"
    assert event.detail == {"reason": "Mailbox fixed, confirmed by phone", "was": "hard_bounce"}
    assert event.target_id == entry
    with app.app_context():
        # They may subscribe again, but get nothing until they do.
        subscriber = db.session.scalars(select(Subscriber)).one()
        assert subscriber.status is SubscriberStatus.UNSUBSCRIBED


def test_an_erased_address_must_be_typed_to_be_removed(app, admin):
    entry = _suppress(app, "gone@example.com")
    with app.app_context():
        db.session.get_one(Suppression, entry).email = None
        db.session.commit()
    page = admin.get(f"/staff/suppressions/{entry}/remove").get_data(as_text=True)
    assert "Type the erased address" in page
    response = _remove(admin, entry, email="other@example.com", reason="asked to come back")
    assert response.status_code == 400
    errors = _error_summary(response.get_data(as_text=True))
    assert errors == [("email", "That is not the address of this entry")]
    response = _remove(admin, entry, email="Gone@Example.com", reason="asked to come back")
    assert response.status_code == 302
    assert _listed(app) == {}


def test_removing_an_unknown_entry_is_not_found(app, admin):
    token = csrf_token(admin, "/staff/suppressions")
    for entry in (999, 2**40):
        url = f"/staff/suppressions/{entry}/remove"
        assert admin.get(url).status_code == 404
        assert admin.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 404


# Unreadable inbound mail


def _inbound(app, content, *, problem="not a DSN or an ARF report", at=NOW):
    with app.app_context():
        message = InboundMessage(
            received_at=at,
            mail_from="mailer-daemon@example.org",
            rcpt_to="bounces+abc@bounces.csp-news.localhost",
            problem=problem,
            content=content,
        )
        db.session.add(message)
        db.session.commit()
        return message.id


HOSTILE = b"""From: <mailer-daemon@example.org>
Subject: <b>Undeliverable</b>

<script>alert("x")</script>
<img src=x onerror="alert(1)"> caf\xc3\xa9 \xff\x00end
"""


def test_unreadable_mail_is_listed_newest_first(app, admin):
    older = _inbound(app, b"first", at=NOW - timedelta(days=1))
    newer = _inbound(app, b"second message", problem="no VERP token", at=NOW)
    page = admin.get("/staff/inbound").get_data(as_text=True)
    rows = _rows(page, "inbound")
    assert [f"/staff/inbound/{newer}" in rows[0], f"/staff/inbound/{older}" in rows[1]] == [
        True,
        True,
    ]
    assert "no VERP token" in rows[0]
    assert "mailer-daemon@example.org" in rows[0]
    assert "bounces+abc@bounces.csp-news.localhost" in rows[0]
    assert "15 July 2026 at 1:00pm" in rows[0]
    assert "14 Bytes" in rows[0]
    assert 'data-state="new"' in rows[0]
    assert "2 messages, newest first" in page


def test_a_message_is_shown_as_escaped_text_never_as_html(app, admin):
    message_id = _inbound(app, HOSTILE)
    response = admin.get(f"/staff/inbound/{message_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    raw = page.split('id="raw"', 1)[1].split("</pre>", 1)[0]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in raw
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in raw
    assert "Subject: &lt;b&gt;Undeliverable&lt;/b&gt;" in raw
    # Bytes that are not UTF-8, and control characters, show as U+FFFD.
    assert "café \ufffd\ufffdend" in raw
    assert "<script>alert" not in page
    assert "onerror=" not in page.replace("onerror=&#34;", "")
    assert 'id="cut"' not in page


def test_a_large_message_is_cut_and_downloadable_whole(app, admin):
    content = b"Subject: big\r\n\r\n" + b"x" * SHOWN_BYTES + b"THE END"
    message_id = _inbound(app, content)
    page = admin.get(f"/staff/inbound/{message_id}").get_data(as_text=True)
    assert "This shows the first 65.5 kB of 65.6 kB" in page
    assert "THE END" not in page
    response = admin.get(f"/staff/inbound/{message_id}/raw")
    assert response.status_code == 200
    assert response.data == content
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="inbound-{message_id}.eml"'
    )


def test_marking_a_message_handled_is_audited_and_done_once(app, admin, at):
    message_id = _inbound(app, b"hello")
    url = f"/staff/inbound/{message_id}"
    token = csrf_token(admin, url)
    assert admin.post(f"{url}/handled").status_code == 400
    response = admin.post(f"{url}/handled", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/inbound"
    page = admin.get("/staff/inbound").get_data(as_text=True)
    assert f"Message {message_id} marked as handled" in page
    assert 'data-state="handled"' in page
    page = admin.get(url).get_data(as_text=True)
    assert "Handled 15 July 2026 at 1:00pm" in page
    assert "Mark as handled" not in page
    admin.post(f"{url}/handled", data={"csrf_token": token})
    assert f"Message {message_id} was already handled" in admin.get(url).get_data(as_text=True)
    [event] = _audit(app, "inbound.handled")
    assert (event.target_type, event.target_id) == ("InboundMessage", message_id)
    assert event.actor == f"staff:1 {ADMIN}"
    with app.app_context():
        assert db.session.get_one(InboundMessage, message_id).handled_at == NOW


def test_unknown_messages_are_not_found(app, admin):
    token = csrf_token(admin, "/staff/inbound")
    for message_id in (999, 2**40):
        assert admin.get(f"/staff/inbound/{message_id}").status_code == 404
        assert admin.get(f"/staff/inbound/{message_id}/raw").status_code == 404
        response = admin.post(f"/staff/inbound/{message_id}/handled", data={"csrf_token": token})
        assert response.status_code == 404
    assert "There is no unreadable mail" in admin.get("/staff/inbound").get_data(as_text=True)


# Deliverability over time


def _sent(subscriber_id, sent_at, *, status=DeliveryStatus.SENT, run_id=None):
    delivery = Delivery(
        kind=MessageKind.DIGEST if run_id else MessageKind.MANAGE,
        run_id=run_id,
        subscriber_id=subscriber_id,
        status=status,
        next_attempt_at=sent_at,
        sent_at=sent_at,
        created_at=sent_at,
        updated_at=sent_at,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery.id


def _returned(kind, received_at, *, delivery_id=None, subscriber_id=None):
    db.session.add(
        BounceEvent(
            kind=kind,
            received_at=received_at,
            delivery_id=delivery_id,
            subscriber_id=subscriber_id,
        )
    )


def _totals(page):
    return dict(re.findall(r'data-total="(\w+)">(\d+)<', page))


def _day_rows(page):
    table = page.split('id="deliverability-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<time datetime="([\d-]+)">[^<]+</time></th>(.*?)</tr>', table, re.S)
    return {day: [int(n) for n in re.findall(r">(\d+)</td>", cells)] for day, cells in rows}


def test_the_overview_counts_each_day_in_local_time(app, admin, at):
    today = NOW
    yesterday = NOW - timedelta(days=1)
    with app.app_context():
        reader = make_subscriber(email="reader@example.com", now=NOW - timedelta(days=60)).id
        first = _sent(reader, today)
        _sent(reader, today - timedelta(hours=1))
        # 00:30 on 15 July in London, though still the 14th in UTC.
        _sent(reader, datetime(2026, 7, 14, 23, 30, tzinfo=UTC))
        bounced = _sent(reader, yesterday, status=DeliveryStatus.BOUNCED)
        _sent(reader, yesterday)
        # Before the 30 days: left out.
        _sent(reader, NOW - timedelta(days=40))
        _sent(reader, today, status=DeliveryStatus.FAILED)
        _returned(BounceKind.HARD, today, delivery_id=bounced)
        # A soft bounce reported twice for one email counts once.
        _returned(BounceKind.SOFT, yesterday, delivery_id=first)
        _returned(BounceKind.SOFT, yesterday, delivery_id=first)
        _returned(BounceKind.COMPLAINT, today, delivery_id=first)
        # An unsubscribe by email is not a bounce; the unsubscribe itself is counted below.
        _returned(BounceKind.UNSUBSCRIBE, today, delivery_id=first)
        unsubscribe(
            db.session.get_one(Subscriber, reader), origin=Origin(method="link"), now=yesterday
        )
        db.session.commit()
        count_again()

    page = admin.get("/staff/deliverability").get_data(as_text=True)
    assert _totals(page) == {"sent": "5", "bounced": "2", "complained": "1", "unsubscribed": "1"}
    assert 'data-rate="bounced">40.00%<' in page
    assert 'data-rate="complained">20.00%<' in page
    days = _day_rows(page)
    assert len(days) == 30
    assert next(iter(days)) == "2026-06-16"
    # Sent, bounced, reported as spam, unsubscribed.
    assert days["2026-07-15"] == [3, 1, 1, 0]
    assert days["2026-07-14"] == [2, 1, 0, 1]
    assert days["2026-07-13"] == [0, 0, 0, 0]
    # Four small charts of 30 days each, described for screen readers.
    assert page.count('class="run-chart__bar"') == 120
    for chart_id, title in (
        ("chart-sent", "Emails sent per day"),
        ("chart-bounced", "Emails bounced per day"),
        ("chart-complained", "Emails reported as spam per day"),
        ("chart-unsubscribed", "Unsubscribes per day"),
    ):
        assert f'<title id="{chart_id}-title">{title}</title>' in page
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in page
    assert "5 emails sent from 16 Jun to 15 Jul, in 30 bars of one day each" in page
    assert "1 person unsubscribed from 16 Jun to 15 Jul" in page
    assert "The figures are also in the table after the charts." in page
    assert "<title>15 Jul: 1 reported as spam</title>" in page


def test_the_overview_of_nothing_sent_has_no_rates(admin, at):
    page = admin.get("/staff/deliverability").get_data(as_text=True)
    assert _totals(page) == {"sent": "0", "bounced": "0", "complained": "0", "unsubscribed": "0"}
    assert 'data-rate="bounced">No email was sent<' in page


# What came back from one run

END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
MADE = END + timedelta(minutes=1)


def _outcomes(page):
    return {name: int(count) for name, count in re.findall(r'data-outcome="(\w+)">(\d+)<', page)}


def _next_run(frequency, created_at, subscriber_ids):
    run = SendRun(
        key=f"{frequency.value}:{created_at.isoformat()}",
        frequency=frequency,
        state=RunState.DONE,
        created_by="test",
        created_at=created_at,
        updated_at=created_at,
    )
    db.session.add(run)
    db.session.flush()
    for subscriber_id in subscriber_ids:
        _sent(subscriber_id, created_at, run_id=run.id)
    return run.id


def test_the_run_page_shows_bounces_complaints_and_unsubscribes(app, admin, smtpd, at):
    with app.app_context():
        readers = add_readers(6, follows={"funding": Frequency.DAILY}, now=MADE - timedelta(days=9))
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=END - timedelta(hours=3))
        db.session.commit()
        period = periods.Schedule.from_config(app.config).period_ending(Frequency.DAILY, END)
        run, _ = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=MADE)
        db.session.commit()
        run_id = run.id
    assert send_queued(app, now=MADE + timedelta(minutes=1)).sent == 6
    smtpd.drain()
    with app.app_context():
        ours = dict(
            db.session.execute(
                select(Delivery.subscriber_id, Delivery.id).where(Delivery.run_id == run_id)
            ).all()
        )
        first, second, third, fourth, fifth, sixth = readers
        db.session.get_one(Delivery, ours[first]).status = DeliveryStatus.BOUNCED
        _returned(BounceKind.HARD, MADE + timedelta(hours=1), delivery_id=ours[first])
        # Two reports about one email are one complaint; one about another run's is not ours.
        _returned(BounceKind.COMPLAINT, MADE + timedelta(hours=2), delivery_id=ours[second])
        _returned(BounceKind.COMPLAINT, MADE + timedelta(hours=3), delivery_id=ours[second])
        # The next daily digest went to the fifth reader only, a day later.
        next_run = _next_run(Frequency.DAILY, MADE + timedelta(days=1), [fifth])
        other = db.session.scalar(select(Delivery.id).where(Delivery.run_id == next_run))
        _returned(BounceKind.COMPLAINT, MADE + timedelta(days=1, hours=1), delivery_id=other)
        # A weekly run does not end the window of a daily one.
        _next_run(Frequency.WEEKLY, MADE + timedelta(hours=5), [third])
        leaving = {
            # Within the window: counted.
            third: MADE + timedelta(days=2),
            second: MADE + timedelta(hours=4),
            # More than seven days later: not counted.
            fourth: MADE + timedelta(days=8),
            # After the next daily digest sent to them: that one is blamed.
            fifth: MADE + timedelta(days=2),
        }
        for reader, when in leaving.items():
            subscriber = db.session.get_one(Subscriber, reader)
            unsubscribe(subscriber, origin=Origin(method="one-click"), now=when)
        db.session.commit()
        count_again()

    page = admin.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert _outcomes(page) == {"bounced": 1, "complained": 1, "unsubscribed": 2}
    rules = page.split('id="outcome-rules">', 1)[1].split("</p>", 1)[0]
    assert "before they were sent the next daily digest" in rules
    assert "at most 7 days after it was made" in rules
