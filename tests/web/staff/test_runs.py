"""The staff pages of send runs: counts, progress, chart, and pausing, resuming, cancelling."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer import clock
from mailer.delivery.worker import worker_from_config
from mailer.domain import periods
from mailer.domain import run_stats
from mailer.domain import send_runs
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import DeliveryStatus
from mailer.models import Frequency
from mailer.models import RunState
from mailer.models import SendRun
from mailer.models import StaffRole
from mailer.web.staff.runs import about
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import EDITOR
from tests.helpers import csrf_token
from tests.helpers import logged_in
from tests.helpers import send_queued

# Wednesday 25 November 2026, 07:00 in London (GMT): a daily period ends.
END = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
MADE = END + timedelta(minutes=1)


@pytest.fixture
def app_settings(app_settings):
    """Workers claim two at a time, so a test can send part of a run."""
    return {**app_settings, "WORKER_BATCH_SIZE": 2}


@pytest.fixture
def staff(app, client):
    """A logged-in editor."""
    return logged_in(app, client, EDITOR, StaffRole.EDITOR, now=MADE)


@pytest.fixture
def at(monkeypatch):
    """Set the wall clock the pages read: at(when)."""

    def set_now(when):
        monkeypatch.setattr(clock, "now", lambda: when)

    set_now(MADE)
    return set_now


def _daily_run(app, readers):
    with app.app_context():
        add_readers(readers, follows={"funding": Frequency.DAILY}, now=END)
        add_readers(2, follows={"events": Frequency.DAILY}, domain="other.example", now=END)
        publish_news("Safer Streets Fund round 6", topics=("funding",), at=END - timedelta(hours=3))
        db.session.commit()
        schedule = periods.Schedule.from_config(app.config)
        period = schedule.period_ending(Frequency.DAILY, END)
        run, _ = send_runs.make_digest_run(Frequency.DAILY, period, actor="test", now=MADE)
        db.session.commit()
        return run.id


def _send_batch(app, now):
    """Let a worker claim and send one batch (two messages) at `now`."""
    with app.app_context():
        worker = worker_from_config(app.config, now=lambda: now)
        try:
            return worker.process_batch()
        finally:
            worker.pool.shutdown()


def _change(client, run_id, action, *, token=True):
    data = {"csrf_token": csrf_token(client, f"/staff/runs/{run_id}")} if token else {}
    return client.post(f"/staff/runs/{run_id}/{action}", data=data)


def _state(app, run_id):
    with app.app_context():
        return db.session.get_one(SendRun, run_id).state


def _count(page, name):
    match = re.search(rf'data-count="{name}">(\d+)<', page)
    assert match, f"no {name} count"
    return int(match.group(1))


def _figure(page, name):
    match = re.search(rf'data-figure="{name}">([^<]*)<', page)
    return match.group(1) if match else None


def _bars(page):
    return page.count('class="run-chart__bar"')


def _table_rows(page):
    table = page.split('id="sent-chart-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<time[^>]*>([^<]+)</time></td><td[^>]*>(\d+)</td>", table)


def test_the_list_and_the_page_show_a_sent_run(app, smtpd, staff, at):
    run_id = _daily_run(app, 4)
    assert send_queued(app, now=END + timedelta(minutes=2)).sent == 4
    at(END + timedelta(minutes=2, seconds=30))

    listing = staff.get("/staff/runs").get_data(as_text=True)
    row = listing.split(f'id="run-{run_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Daily digest of Wednesday 25 November 2026" in row
    assert f'href="/staff/runs/{run_id}"' in row
    assert 'data-state="done"' in row
    figures = ("recipients", "sent", "waiting", "failed")
    assert [_count(row, name) for name in figures] == [4, 4, 0, 0]

    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    counts = {name: _count(page, name) for name in DeliveryStatus}
    assert counts == {
        "queued": 0,
        "sending": 0,
        "sent": 4,
        "failed": 0,
        "cancelled": 0,
        "bounced": 0,
    }
    assert _figure(page, "progress") == "100% done (4 of 4 settled)"
    assert _figure(page, "rate") == "0.1 messages per second over the last minute"
    assert _figure(page, "eta") is None
    assert "Completed" in page
    assert 'http-equiv="refresh"' not in page
    # Every message left in the same instant: one bar of ten seconds.
    assert "Messages sent per 10 seconds" in page
    assert _bars(page) == 1
    assert _table_rows(page) == [("7:02:00am", "4")]
    assert len(smtpd.drain()) == 4


def test_a_sending_run_shows_its_rate_and_time_left(app, smtpd, staff, at):
    run_id = _daily_run(app, 6)
    assert _send_batch(app, END + timedelta(minutes=2)) == 2
    at(END + timedelta(minutes=2, seconds=30))
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert 'data-state="sending"' in page
    assert (_count(page, "sent"), _count(page, "queued")) == (2, 4)
    assert _figure(page, "progress") == "33% done (2 of 6 settled)"
    # Two in the last minute: 4 left at 2 a minute.
    assert _figure(page, "eta") == "about 2 minutes"
    # The chart of a live run runs up to now, so a stall shows as empty bars.
    assert _table_rows(page) == [
        ("7:02:00am", "2"),
        ("7:02:10am", "0"),
        ("7:02:20am", "0"),
        ("7:02:30am", "0"),
    ]
    assert _bars(page) == 4
    at(END + timedelta(minutes=10))
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert _figure(page, "eta") == "not sending"
    smtpd.drain()


@pytest.mark.parametrize(
    ("offsets", "unit", "expected"),
    [
        # Under five minutes: buckets of ten seconds, from the first to the last send.
        ((0, 25, 60), "10 seconds", [2, 0, 2, 0, 0, 0, 2]),
        # Longer: buckets of a minute.
        ((0, 180, 420), "minute", [2, 0, 0, 2, 0, 0, 0, 2]),
    ],
)
def test_the_chart_has_one_bar_per_bucket(app, smtpd, staff, at, offsets, unit, expected):
    run_id = _daily_run(app, 6)
    for offset in offsets:
        assert _send_batch(app, END + timedelta(minutes=2, seconds=offset)) == 2
    at(END + timedelta(hours=1))
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert 'data-state="done"' in page
    assert f'<title id="sent-chart-title">Messages sent per {unit}</title>' in page
    assert 'aria-labelledby="sent-chart-title sent-chart-desc"' in page
    assert [int(sent) for _, sent in _table_rows(page)] == expected
    assert _bars(page) == len(expected)
    assert "6 messages sent from 7:02" in page
    smtpd.drain()


def test_a_sending_run_updates_itself_only_when_asked(app, staff):
    run_id = _daily_run(app, 2)
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    assert f'href="/staff/runs/{run_id}?refresh=on"' in page
    page = staff.get(f"/staff/runs/{run_id}?refresh=on").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="10">' in page
    assert "Stop updating" in page
    _change(staff, run_id, "pause")
    page = staff.get(f"/staff/runs/{run_id}?refresh=on").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page


def test_pausing_stops_the_workers_and_resuming_sends_the_rest_once(app, smtpd, staff, at):
    run_id = _daily_run(app, 5)
    assert _send_batch(app, END + timedelta(minutes=2)) == 2
    response = _change(staff, run_id, "pause")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/runs/{run_id}"
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert f"Run {run_id} paused" in page
    assert 'data-state="paused"' in page
    assert "Resume sending" in page
    assert "Pause sending" not in page
    assert _state(app, run_id) is RunState.PAUSED
    assert send_queued(app, now=END + timedelta(minutes=3)).sent == 0

    _change(staff, run_id, "resume")
    assert _state(app, run_id) is RunState.SENDING
    assert send_queued(app, now=END + timedelta(minutes=4)).sent == 3
    assert _state(app, run_id) is RunState.DONE
    received = sorted(message.rcpt_tos[0] for message in smtpd.drain())
    assert received == [f"reader{n}@example.org" for n in range(5)]
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["run.pause", "run.resume"]))
        ).all()
        assert sorted(event.action for event in events) == ["run.pause", "run.resume"]
        assert all(event.actor.endswith(EDITOR) for event in events)
        assert all(event.target_id == run_id for event in events)


def test_cancelling_cancels_what_is_still_queued(app, smtpd, staff, at):
    run_id = _daily_run(app, 5)
    assert _send_batch(app, END + timedelta(minutes=2)) == 2
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert "The 3 emails still queued will never be sent" in page
    assert "govuk-button--warning" in page
    _change(staff, run_id, "cancel")
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert f"Run {run_id} cancelled" in page
    assert (_count(page, "sent"), _count(page, "queued"), _count(page, "cancelled")) == (2, 0, 3)
    assert "Cancel the run" not in page
    assert "Resume sending" not in page
    assert send_queued(app, now=END + timedelta(minutes=3)).sent == 0
    assert len(smtpd.drain()) == 2
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "run.cancel")
        ).one()
        assert event.detail == {"cancelled": 3}
        assert event.actor.endswith(EDITOR)


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_changing_a_finished_run_is_a_conflict_not_an_error(app, smtpd, staff, action):
    run_id = _daily_run(app, 2)
    send_queued(app, now=END + timedelta(minutes=2))
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert "Change the run" not in page
    response = _change(staff, run_id, action)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "That change is not possible" in page
    assert f"Run {run_id} is done; it cannot be {action}d" in page
    assert _state(app, run_id) is RunState.DONE
    smtpd.drain()


def test_an_unknown_run_is_not_found(app, staff):
    for path in ("/staff/runs/999", f"/staff/runs/{2**40}"):
        assert staff.get(path).status_code == 404
    token = csrf_token(staff, "/staff/runs")
    assert staff.post("/staff/runs/999/pause", data={"csrf_token": token}).status_code == 404


def test_changing_a_run_needs_the_form_token(app, staff):
    run_id = _daily_run(app, 2)
    assert _change(staff, run_id, "pause", token=False).status_code == 400
    assert _state(app, run_id) is RunState.SENDING


def test_strangers_are_sent_to_the_login_page(app, client):
    run_id = _daily_run(app, 2)
    for path in ("/staff/runs", f"/staff/runs/{run_id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/staff/login?next={path}"
    token = csrf_token(client, "/staff/login")
    response = client.post(f"/staff/runs/{run_id}/cancel", data={"csrf_token": token})
    assert response.headers["Location"].startswith("/staff/login")
    assert _state(app, run_id) is RunState.SENDING


def test_an_alert_is_listed_by_its_title_and_the_nav_links_to_runs(app, staff):
    with app.app_context():
        item = publish_news("Funding round opens", at=MADE)
        send_runs.make_alert_run(item, actor="test", now=MADE)
        db.session.commit()
    page = staff.get("/staff/runs").get_data(as_text=True)
    assert "Alert: Funding round opens" in page
    assert re.search(
        r'href="/staff/runs" aria-current="page">\s*<strong[^>]*>Sending</strong>', page
    )
    assert 'href="/staff/runs"' in staff.get("/staff/").get_data(as_text=True)


def test_an_empty_list_says_so(staff):
    assert "No run has been made yet" in staff.get("/staff/runs").get_data(as_text=True)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (20, "less than a minute"),
        (60, "about 1 minute"),
        (185, "about 3 minutes"),
        (2 * 3600, "about 2 hours"),
        (3 * 86400, "about 3 days"),
    ],
)
def test_time_left_is_said_in_rough_words(seconds, words):
    assert about(timedelta(seconds=seconds)) == words


@pytest.mark.parametrize(
    ("span", "width"),
    [(0, 10), (299, 10), (300, 60), (179 * 60, 60), (180 * 60, 300), (400 * 86400, 3 * 86400)],
)
def test_buckets_widen_so_a_chart_stays_readable(span, width):
    assert run_stats.bucket_width(span) == width
