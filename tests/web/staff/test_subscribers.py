"""The admins' subscriber pages: counts, search and filters, one subscriber's records, and the
streamed CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.domain import periods
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import BounceEvent
from mailer.models import BounceKind
from mailer.models import ConsentAction
from mailer.models import Frequency
from mailer.models import StaffRole
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from mailer.models import Subscription
from mailer.models import Topic
from tests import TODAY
from tests.factories import add_consent
from tests.factories import add_readers
from tests.factories import make_subscriber
from tests.factories import publish_news
from tests.helpers import ADMIN
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import login
from tests.helpers import make_staff
from tests.helpers import send_queued
from tests.helpers import subscribe

# Wednesday 15 July 2026, 1pm in London (BST, an hour ahead of UTC).
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
PAGES = ("/staff/subscribers", "/staff/subscribers/1", "/staff/subscribers/export.csv")
HEADER = [
    "email",
    "topics",
    "frequency",
    "consent_source",
    "consent_date",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "language",
]


def _add(app, email, *, status=SubscriberStatus.ACTIVE, follows=None, at=NOW):
    """Add a subscriber following {slug: frequency}; return their id."""
    with app.app_context():
        subscriber = make_subscriber(email=email, status=status, now=at)
        topics = {t.slug: t for t in db.session.scalars(select(Topic))}
        for slug, frequency in (follows or {}).items():
            subscriber.subscriptions.append(
                Subscription(topic=topics[slug], frequency=frequency, created_at=at)
            )
        db.session.commit()
        return subscriber.id


def _erased(app, *, at=NOW):
    """Add the tombstone an erasure leaves; return its id."""
    with app.app_context():
        subscriber = make_subscriber(email="", status=SubscriberStatus.ERASED, now=at)
        subscriber.email_key = f"erased-{subscriber.id}"
        db.session.commit()
        return subscriber.id


def _rows(page, table_id):
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return table.split('<tr class="govuk-table__row"')[2:]


def _listed(page):
    """The addresses in the results table, in order."""
    if 'id="subscribers"' not in page:
        return []
    return [
        re.search(r'href="[^"]+">([^<]*)</a>', row).group(1) for row in _rows(page, "subscribers")
    ]


def _list(client, query=""):
    return client.get(f"/staff/subscribers{query}").get_data(as_text=True)


def _error_summary(page):
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)


def _csv(response):
    """The rows of an export, after checking its byte order mark and line endings."""
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\r\n") == body.count(b"\n")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# The list


def test_counts_show_how_many_subscribers_are_in_each_status(app, admin):
    _add(app, "a@example.com")
    _add(app, "b@example.com")
    _add(app, "c@example.com", status=SubscriberStatus.PENDING)
    _add(app, "d@example.com", status=SubscriberStatus.UNSUBSCRIBED)
    _add(app, "e@example.com", status=SubscriberStatus.SUPPRESSED)
    _erased(app)
    page = _list(admin)
    counts = dict(re.findall(r'data-count="(\w+)">([\d,]+)<', page))
    assert counts == {
        "total": "6",
        "pending": "1",
        "active": "2",
        "unsubscribed": "1",
        "suppressed": "1",
        "erased": "1",
    }


def test_the_list_shows_each_subscriber_newest_first_with_topics_and_frequency(app, admin):
    older = _add(
        app,
        "older@example.com",
        follows={"funding": Frequency.WEEKLY, "events": Frequency.WEEKLY},
        at=NOW - timedelta(days=3),
    )
    _add(
        app,
        "newer@example.com",
        status=SubscriberStatus.PENDING,
        follows={"events": Frequency.DAILY},
    )
    page = _list(admin)
    assert _listed(page) == ["newer@example.com", "older@example.com"]
    row = _rows(page, "subscribers")[1]
    assert f'href="/staff/subscribers/{older}"' in row
    assert 'data-status="active"' in row
    assert "Funding, Events" in row
    assert "weekly" in row
    assert "12 July 2026" in row
    assert 'data-status="pending"' in _rows(page, "subscribers")[0]
    assert "2 subscribers, newest first" in page
    assert 'href="/staff/subscribers" aria-current="page">Subscribers</a>' in page


def test_an_erased_subscriber_is_listed_without_an_address(app, admin):
    erased = _erased(app)
    page = _list(admin)
    assert _listed(page) == [f"Erased subscriber #{erased}"]
    assert 'data-status="erased"' in page
    assert _listed(_list(admin, "?q=erased")) == []


def test_search_finds_part_of_an_address_in_any_case(app, admin):
    _add(app, "Ann.Smith@Example.com")
    _add(app, "bob@example.org")
    assert _listed(_list(admin, "?q=+ann.SMITH@example+")) == ["Ann.Smith@Example.com"]
    assert _listed(_list(admin, "?q=EXAMPLE.ORG")) == ["bob@example.org"]
    page = _list(admin, "?q=nobody")
    assert _listed(page) == []
    assert "No subscriber matches." in page
    assert 'value="nobody"' in page


def test_search_takes_wildcard_characters_literally(app, admin):
    _add(app, "ann_x@example.com")
    _add(app, "annbx@example.com")
    _add(app, "100%sure@example.com")
    _add(app, "100percent@example.com")
    _add(app, "back\\slash@example.com")
    assert _listed(_list(admin, "?q=ann_")) == ["ann_x@example.com"]
    assert _listed(_list(admin, "?q=%25")) == ["100%sure@example.com"]
    assert _listed(_list(admin, "?q=0%25s")) == ["100%sure@example.com"]
    assert _listed(_list(admin, "?q=%5C")) == ["back\\slash@example.com"]


def test_each_filter_narrows_the_list(app, admin):
    _add(app, "funding-daily@example.com", follows={"funding": Frequency.DAILY})
    _add(app, "events-weekly@example.com", follows={"events": Frequency.WEEKLY})
    _add(
        app,
        "both@example.com",
        follows={"funding": Frequency.WEEKLY, "events": Frequency.DAILY},
    )
    _add(app, "gone@example.com", status=SubscriberStatus.UNSUBSCRIBED)

    assert _listed(_list(admin, "?status=unsubscribed")) == ["gone@example.com"]
    assert set(_listed(_list(admin, "?topic=funding"))) == {
        "funding-daily@example.com",
        "both@example.com",
    }
    assert set(_listed(_list(admin, "?frequency=weekly"))) == {
        "events-weekly@example.com",
        "both@example.com",
    }
    # Both at once: a subscription of that topic at that frequency.
    assert _listed(_list(admin, "?topic=funding&frequency=daily")) == ["funding-daily@example.com"]
    assert _listed(_list(admin, "?topic=events&status=active&q=both")) == ["both@example.com"]
    page = _list(admin, "?topic=funding&frequency=daily&status=active")
    assert re.search(r'<option value="funding" selected>Funding</option>', page)
    assert re.search(r'<option value="daily" selected>Daily</option>', page)
    assert re.search(r'<option value="active" selected>Active</option>', page)


def test_the_list_shows_fifty_a_page_and_keeps_the_filters(app, admin):
    with app.app_context():
        add_readers(51, follows={"funding": Frequency.DAILY}, now=NOW)
        add_readers(3, follows={"events": Frequency.DAILY}, domain="other.example", now=NOW)
        db.session.commit()
    first = _list(admin, "?topic=funding")
    assert len(_listed(first)) == 50
    assert "51 subscribers, page 1 of 2" in first
    assert 'href="/staff/subscribers?page=2&amp;topic=funding"' in first
    second = _list(admin, "?topic=funding&page=2")
    assert _listed(second) == ["reader0@example.org"]
    assert 'href="/staff/subscribers/export.csv?topic=funding"' in second
    # A page past the end shows the last one.
    assert _listed(_list(admin, "?topic=funding&page=9")) == ["reader0@example.org"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "?status=gone",
            "status",
            "Choose a status from the list (pending, active, unsubscribed, suppressed, erased)",
        ),
        (
            "?topic=knitting",
            "topic",
            "There is no topic &#39;knitting&#39;; choose one from the list",
        ),
        (
            "?frequency=hourly",
            "frequency",
            "Choose a frequency from the list (immediate, daily, weekly)",
        ),
        ("?q=" + "x" * 321, "q", "Search text must be 320 characters or fewer"),
        ("?q=a%00b", "q", "Search text must not contain control characters"),
        # PostgreSQL refuses a NUL in a query parameter: the filter must never get that far.
        (
            "?topic=fund%00ing",
            "topic",
            "There is no topic &#39;fund\\x00ing&#39;; choose one from the list",
        ),
    ],
)
def test_a_bad_filter_value_gives_a_400_page_saying_what_is_wrong(
    app, admin, query, field, message
):
    _add(app, "someone@example.com")
    for path in ("/staff/subscribers", "/staff/subscribers/export.csv"):
        response = admin.get(path + query)
        assert response.status_code == 400, path
        page = response.get_data(as_text=True)
        assert _error_summary(page) == [(field, message)]
        assert "<title>Error: Subscribers" in page
        assert 'id="subscribers"' not in page
    assert _audit(app, "subscribers.export") == []


# One subscriber


def test_the_subscriber_page_shows_consent_history_and_the_emails_sent(app, admin, smtpd):
    subscribe(
        admin,
        "Reader@Example.com",
        topics=("funding",),
        headers={"User-Agent": "TestBrowser/1.0"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    send_queued(app)
    confirmation = smtpd.get()
    assert confirmation.rcpt_tos == ["Reader@example.com"]
    confirm_path = link(confirmation.text, "/confirm/")
    admin.post(confirm_path, data={"csrf_token": csrf_token(admin, confirm_path)})
    send_queued(app)
    # The sign-up went through the web app at the clock's time; the digest follows it.
    now = clock.now()
    with app.app_context():
        subscriber = db.session.scalars(select(Subscriber)).one()
        subscriber_id = subscriber.id
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=now)
        db.session.commit()
        schedule = periods.Schedule.from_config(app.config)
        end = schedule.latest_end(Frequency.DAILY, now + timedelta(days=1))
        period = schedule.period_ending(Frequency.DAILY, end)
        run, _ = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=now)
        run_id = run.id
        db.session.add(
            BounceEvent(
                kind=BounceKind.SOFT,
                received_at=now,
                subscriber_id=subscriber_id,
                status="4.2.2",
                diagnostic="mailbox full",
            )
        )
        db.session.commit()
    send_queued(app)
    assert len(smtpd.drain()) == 2

    response = admin.get(f"/staff/subscribers/{subscriber_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Reader@example.com</h1>' in page
    assert 'data-status="active"' in page
    assert '<dd class="govuk-summary-list__value" id="topics">Funding</dd>' in page
    assert '<dd class="govuk-summary-list__value" id="frequency">daily</dd>' in page

    consents = _rows(page, "consents")
    assert [re.search(r'data-action="(\w+)"', row).group(1) for row in consents] == [
        "confirmed",
        "requested",
    ]
    assert "Asked to subscribe using the form on this website." in consents[1]
    assert "Confirmed their subscription by following a link in an email from us." in consents[0]
    # The raw record is behind "Technical details".
    assert consents[1].index("Technical details") < consents[1].index("192.0.2.7")
    assert "192.0.2.7" in consents[1]
    assert "TestBrowser/1.0" in consents[1]
    assert "form" in consents[1]
    assert "topics: funding" in consents[1]
    assert app.config["CONSENT_WORDING_VERSION"] in consents[1]

    deliveries = _rows(page, "deliveries")
    kinds = [re.search(r'data-kind="(\w+)"', row).group(1) for row in deliveries]
    assert kinds == ["digest", "welcome", "confirm"]
    assert all('data-status="sent"' in row for row in deliveries)
    assert f'<a class="govuk-link" href="/staff/runs/{run_id}">Run {run_id}</a>' in deliveries[0]
    assert "3 emails, newest first" in page

    [bounce] = _rows(page, "bounces")
    assert "mailbox full" in bounce
    assert "4.2.2" in bounce
    assert 'data-kind="soft"' in bounce
    assert response.headers["Cache-Control"] == "private, no-store"
    assert admin.get(f"/staff/runs/{run_id}").status_code == 200


def test_the_subscriber_page_of_an_erased_subscriber_shows_no_address(app, admin):
    erased = _erased(app)
    page = admin.get(f"/staff/subscribers/{erased}").get_data(as_text=True)
    assert f"Erased subscriber #{erased}</h1>" in page
    assert "No consent events are recorded." in page
    assert "No emails have been sent to this subscriber." in page


@pytest.mark.parametrize("subscriber_id", ["999", "0", "99999999999"])
def test_an_unknown_subscriber_is_a_404(app, admin, subscriber_id):
    _add(app, "someone@example.com")
    response = admin.get(f"/staff/subscribers/{subscriber_id}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


# Who may see them


def test_editors_get_403_on_every_subscriber_page(app, client):
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)
    _add(app, "someone@example.com")
    login(client, EDITOR)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "You do not have permission" in response.get_data(as_text=True)
    assert "/staff/subscribers" not in client.get("/staff/").get_data(as_text=True)
    assert _audit(app, "subscribers.export") == []


def test_strangers_are_sent_to_the_login_page(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/staff/login?next={path}"


def test_every_subscriber_page_is_kept_out_of_caches(app, admin):
    _add(app, "someone@example.com")
    for path in PAGES:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store"


# The export


def test_the_export_is_a_streamed_csv_of_the_matching_subscribers(app, admin, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    _add(app, "daily@example.com", follows={"funding": Frequency.DAILY, "events": Frequency.DAILY})
    _add(
        app,
        "weekly@example.com",
        status=SubscriberStatus.UNSUBSCRIBED,
        follows={"events": Frequency.WEEKLY},
        at=NOW - timedelta(days=1),
    )
    _erased(app)
    response = admin.get("/staff/subscribers/export.csv?topic=events")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="subscribers-2026-07-15.csv"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_data()
    assert body.splitlines()[0] == b'\xef\xbb\xbf"' + b'","'.join(h.encode() for h in HEADER) + b'"'
    rows = _csv(response)
    assert rows == [
        HEADER,
        [
            "daily@example.com",
            "funding;events",
            "daily",
            "sign-up form",
            "2026-07-15",
            "active",
            "2026-07-15T12:00:00+00:00",
            "2026-07-15T12:00:00+00:00",
            "",
            "en",
        ],
        [
            "weekly@example.com",
            "events",
            "weekly",
            "",
            "",
            "unsubscribed",
            "2026-07-14T12:00:00+00:00",
            "",
            "",
            "en",
        ],
    ]
    filtered = _csv(
        admin.get("/staff/subscribers/export.csv?status=active&frequency=daily&q=DAILY")
    )
    assert [row[0] for row in filtered] == ["email", "daily@example.com"]


def test_the_export_leaves_out_erased_subscribers(app, admin):
    _add(app, "kept@example.com")
    _erased(app)
    rows = _csv(admin.get("/staff/subscribers/export.csv"))
    assert [row[0] for row in rows] == ["email", "kept@example.com"]
    assert _csv(admin.get("/staff/subscribers/export.csv?status=erased")) == [HEADER]


def test_the_export_gives_the_consent_source_of_an_import(app, admin):
    subscriber_id = _add(app, "imported@example.com", follows={"funding": Frequency.WEEKLY})
    with app.app_context():
        add_consent(subscriber_id, ConsentAction.CONFIRMED, at=NOW, detail={"method": "link"})
        add_consent(
            subscriber_id,
            ConsentAction.IMPORTED,
            at=NOW,
            detail={"method": "import", "source": "Events 2025 list", "consent_date": "2025-03-01"},
        )
        db.session.commit()
    # Imported without a consent source, then confirmed by the link of the email sent.
    confirmed_id = _add(app, "confirmed@example.com", follows={"events": Frequency.DAILY})
    with app.app_context():
        imported = {"source": None, "consent_date": None}
        add_consent(confirmed_id, ConsentAction.IMPORTED, at=NOW, detail=imported)
        confirmed = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
        add_consent(confirmed_id, ConsentAction.CONFIRMED, at=confirmed, detail={"method": "link"})
        db.session.commit()
    [_, first, second] = _csv(admin.get("/staff/subscribers/export.csv"))
    assert first[:5] == [
        "imported@example.com",
        "funding",
        "weekly",
        "Events 2025 list",
        "2025-03-01",
    ]
    assert second[:5] == ["confirmed@example.com", "events", "daily", "sign-up form", "2026-08-01"]


@pytest.mark.parametrize(
    "payload", ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tSUM(A1)", "\r=1+1"]
)
def test_the_export_neutralises_formulas_in_every_column_of_user_text(app, admin, payload):
    with app.app_context():
        topic = Topic(slug=payload, name="Hostile", description="", position=99)
        db.session.add(topic)
        db.session.commit()
    subscriber_id = _add(app, payload, follows={payload: Frequency.DAILY})
    with app.app_context():
        hostile = {"source": payload, "consent_date": payload}
        add_consent(subscriber_id, ConsentAction.IMPORTED, at=NOW, detail=hostile)
        db.session.commit()
    response = admin.get("/staff/subscribers/export.csv")
    [_, row] = _csv(response)
    assert row[:5] == [f"'{payload}", f"'{payload}", "daily", f"'{payload}", f"'{payload}"]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_the_export_is_audited_in_a_transaction_of_its_own(app, admin):
    _add(app, "a@example.com", follows={"funding": Frequency.DAILY})
    _add(app, "b@example.com", follows={"events": Frequency.DAILY})
    _erased(app)
    # Committed on its own: a download dropped before the end is still in the log.
    admin.get("/staff/subscribers/export.csv?topic=funding&status=active").close()
    [event] = _audit(app, "subscribers.export")
    assert event.actor == f"staff:1 {ADMIN}"
    assert (event.target_type, event.target_id) == ("Subscriber", None)
    assert event.detail == {"filters": {"status": "active", "topic": "funding"}, "rows": 1}
    assert len(_csv(admin.get("/staff/subscribers/export.csv"))) == 3
    assert _audit(app, "subscribers.export")[1].detail == {"filters": {}, "rows": 2}


def test_the_list_links_to_an_export_with_the_same_filters(app, admin):
    _add(app, "someone@example.com")
    page = _list(admin, "?q=some&status=active&frequency=daily")
    assert (
        '<a class="govuk-link" id="export" href="/staff/subscribers/export.csv'
        '?q=some&amp;status=active&amp;frequency=daily" download>'
        "Export these subscribers (CSV)</a>"
    ) in page
