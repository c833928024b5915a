"""The staff area: access control, login and lock-out, editing, publishing, keys, accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2 import extract_parameters
from argon2 import profiles
from sqlalchemy import select

from mailer import clock
from mailer.domain import staff as accounts
from mailer.extensions import db
from mailer.models import ApiKey
from mailer.models import AuditEvent
from mailer.models import NewsItem
from mailer.models import NewsState
from mailer.models import StaffRole
from mailer.models import StaffUser
from mailer.web.staff.auth import PUBLIC_ENDPOINTS
from tests import TODAY
from tests.helpers import ADMIN
from tests.helpers import EDITOR
from tests.helpers import PASSWORD
from tests.helpers import csrf_token
from tests.helpers import login
from tests.helpers import make_staff
from tests.helpers import when_fields

HOSTILE_MARKDOWN = """## Funding round

<script>alert("x")</script>
<img src=x onerror="alert(1)">
[click](javascript:alert(1)) and [data](data:text/html;base64,PHNjcmlwdD4=)
<a href="https://www.gov.uk" onmouseover="steal()">GOV.UK</a>
<div><p>unclosed <b>tags
"""


@pytest.fixture
def editor(app):
    """An editor's address (not logged in)."""
    make_staff(app, EDITOR, StaffRole.EDITOR, now=TODAY)
    return EDITOR


@pytest.fixture
def admin(app):
    """An admin's address (not logged in)."""
    make_staff(app, ADMIN, StaffRole.ADMIN, now=TODAY)
    return ADMIN


def _post(client, path, data=None, form_page=None):
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def _write(client, **fields):
    data = {
        "title": "Funding round opens",
        "summary": "Apply by 6 February.",
        "body": "Read **the guidance**.",
        "topics": ["funding"],
        **fields,
    }
    return _post(client, "/staff/news/new", data)


def _item(app):
    with app.app_context():
        item = db.session.scalar(select(NewsItem).order_by(NewsItem.id.desc()))
        db.session.expunge(item)
        return item


def _staff_urls(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and rule.endpoint not in PUBLIC_ENDPOINTS:
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


def test_every_staff_page_sends_strangers_to_the_login_page(app):
    urls = list(_staff_urls(app))
    assert len(urls) >= 15
    # The pages before a session starts: the login, its code step, and invitations.
    assert PUBLIC_ENDPOINTS == {
        "staff.login",
        "staff.account.login_code",
        "staff.account.invitation",
    }
    stranger = app.test_client()
    # A valid form token, so that what refuses a POST is the missing login, not CSRF.
    token = csrf_token(stranger, "/staff/login")
    for method, path in urls:
        response = stranger.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/staff/login?next=/staff"), path


def test_editors_cannot_open_admin_pages(app, client, editor):
    login(client, editor)
    for path in ("/staff/api-keys", "/staff/users", "/staff/audit"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "You do not have permission" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 200


def test_login_goes_where_it_was_asked_but_never_off_site(app, client, editor):
    response = login(client, editor, next_path="/staff/news/new")
    assert response.headers["Location"] == "/staff/news/new"
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    response = login(client, editor, next_path="https://evil.example/staff")
    assert response.headers["Location"] == "/staff/"


def test_a_wrong_password_says_nothing_about_which_part_was_wrong(app, client, editor):
    for email in (editor, "nobody@example.gov.uk"):
        response = login(client, email, "wrong password here")
        assert response.status_code == 401
        assert "Enter a correct email address and password" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_a_password_kept_under_other_argon2_parameters_is_hashed_again_at_login(
    app, client, editor
):
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == editor))
        user.password_hash = PasswordHasher.from_parameters(profiles.PRE_21_2).hash(PASSWORD)
        db.session.commit()
    assert login(client, editor).status_code == 302
    with app.app_context():
        kept = db.session.scalar(select(StaffUser.password_hash).where(StaffUser.email == editor))
    assert extract_parameters(kept) == profiles.CHEAPEST  # TestingConfig's profile
    assert PasswordHasher().verify(kept, PASSWORD)


def test_five_failures_lock_the_account_for_fifteen_minutes(app, client, editor):
    for _ in range(5):
        login(client, editor, "wrong password here")
    locked = login(client, editor)
    assert locked.status_code == 401
    assert "locked for 15 minutes" in locked.get_data(as_text=True)
    with app.app_context():
        later = clock.now() + timedelta(minutes=16)
        outcome = accounts.authenticate(editor, PASSWORD, now=later)
        assert outcome.user is not None
        assert outcome.user.failed_logins == 0


def test_the_session_cookie_is_httponly_and_samesite(app, client, editor):
    response = login(client, editor)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.fixture
def https_app_settings(app_settings):
    return {**app_settings, "BASE_URL": "https://news.example.gov.uk"}


def test_the_session_cookie_is_secure_behind_https(https_app_settings, editor):
    from config import TestingConfig
    from mailer.app import create_app

    secure = create_app(TestingConfig, https_app_settings)
    response = login(secure.test_client(), editor)
    assert "Secure" in response.headers["Set-Cookie"]
    with secure.app_context():
        db.engine.dispose()


def test_logging_out_ends_the_session(client, editor):
    login(client, editor)
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    assert client.get("/staff/").status_code == 302


def test_a_new_session_version_ends_every_session(app, client, editor):
    login(client, editor)
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        user.session_version += 1
        db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_staff_forms_need_their_csrf_token(client, editor):
    response = client.post("/staff/login", data={"email": editor, "password": PASSWORD})
    assert response.status_code == 400


def test_writing_and_publishing_an_item_is_audited(app, client, editor):
    login(client, editor)
    response = _write(client)
    item = _item(app)
    assert response.headers["Location"] == f"/staff/news/{item.id}"
    assert item.state is NewsState.DRAFT
    assert item.slug == "funding-round-opens"
    assert item.body_html == "<p>Read <strong>the guidance</strong>.</p>\n"
    page = client.get(f"/staff/news/{item.id}").get_data(as_text=True)
    assert "Draft saved" in page
    check = _post(client, f"/staff/news/{item.id}/publish", form_page=f"/staff/news/{item.id}")
    assert "Check who will get it" in check.get_data(as_text=True)
    assert _item(app).state is NewsState.DRAFT
    published = _post(
        client,
        f"/staff/news/{item.id}/publish",
        {"confirm": "yes"},
        form_page=f"/staff/news/{item.id}",
    )
    assert published.status_code == 302
    item = _item(app)
    assert item.state is NewsState.PUBLISHED
    assert item.published_at is not None
    edited = _post(
        client,
        f"/staff/news/{item.id}/edit",
        {
            "title": "Funding round opens today",
            "summary": "Apply now.",
            "body": "",
            "topics": ["funding", "events"],
        },
    )
    assert edited.status_code == 302
    assert _item(app).slug == "funding-round-opens"
    _post(
        client,
        f"/staff/news/{item.id}/withdraw",
        {"reason": "The round closed early"},
        form_page=f"/staff/news/{item.id}",
    )
    assert _item(app).state is NewsState.WITHDRAWN
    with app.app_context():
        actions = [
            (e.action, e.actor)
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.target_type == "NewsItem")
                .order_by(AuditEvent.id)
            )
        ]
    actor = f"staff:1 {editor}"
    assert actions == [
        ("created", actor),
        ("published", actor),
        ("edited", actor),
        ("withdrew", actor),
    ]


def test_hostile_markdown_is_sanitised_before_it_is_stored(app, client, editor):
    login(client, editor)
    _write(client, body=HOSTILE_MARKDOWN)
    html = _item(app).body_html
    for bad in (
        "<script",
        "onerror",
        "onmouseover",
        "<img",
        "<div",
        'href="javascript:',
        'href="data:',
    ):
        assert bad not in html, bad
    # Links the sanitiser would not allow stay visible as inert text.
    assert "[click](javascript:alert(1))" in html
    assert re.findall(r'href="([^"]*)"', html) == ["https://www.gov.uk"]
    assert '<a href="https://www.gov.uk" rel="noopener noreferrer">GOV.UK</a>' in html
    assert "<h2>Funding round</h2>" in html
    assert html.count("<p>") == html.count("</p>")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "Enter a title"),
        ({"title": "x" * 201}, "Title must be 200 characters or fewer"),
        ({"summary": "s" * 601}, "Summary must be 600 characters or fewer"),
        ({"title": "Evil\r\nBcc: x@example.net"}, "must not contain control characters"),
        ({"topics": []}, "Select at least one topic"),
        ({"topics": ["no-such-topic"]}, "Select topics from the list"),
    ],
)
def test_bad_news_input_shows_the_form_again_with_errors(app, client, editor, fields, message):
    login(client, editor)
    response = _write(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(NewsItem)) is None


def test_titles_that_make_the_same_slug_get_distinct_addresses(app, client, editor):
    login(client, editor)
    for _ in range(3):
        _write(client, title="Tilley awards 2012: winners announced!")
    with app.app_context():
        slugs = sorted(db.session.scalars(select(NewsItem.slug)))
    assert slugs == [
        "tilley-awards-2012-winners-announced",
        "tilley-awards-2012-winners-announced-2",
        "tilley-awards-2012-winners-announced-3",
    ]


def test_scheduling_then_the_publish_due_job_publishes_on_time(app, client, runner, editor):
    login(client, editor)
    _write(client)
    item = _item(app)
    tomorrow = clock.now() + timedelta(days=1)
    response = _post(
        client,
        f"/staff/news/{item.id}/publish",
        {**when_fields(tomorrow.date(), "9:30am"), "confirm": "yes"},
        form_page=f"/staff/news/{item.id}",
    )
    assert response.status_code == 302
    item = _item(app)
    assert item.state is NewsState.SCHEDULED
    # 09:30 in London on a winter day is 09:30 UTC; the clock is never mistaken for UTC+1.
    assert item.publish_at.hour == (9 if tomorrow.month in (11, 12, 1, 2) else item.publish_at.hour)
    assert runner.invoke(args=["publish-due"]).output == "Published 0 scheduled items.\n"
    with app.app_context():
        db.session.get(NewsItem, item.id).publish_at = clock.now() - timedelta(seconds=1)
        db.session.commit()
    assert runner.invoke(args=["publish-due"]).output == "Published 1 scheduled items.\n"
    assert _item(app).state is NewsState.PUBLISHED


def test_impossible_state_changes_get_a_409_page(app, client, editor):
    login(client, editor)
    _write(client)
    item = _item(app)
    response = _post(
        client,
        f"/staff/news/{item.id}/withdraw",
        {"reason": "The round closed early"},
        form_page=f"/staff/news/{item.id}",
    )
    assert response.status_code == 409
    assert "Only a published or scheduled item can be withdrawn" in response.get_data(as_text=True)
    assert client.get("/staff/news/999").status_code == 404


def test_the_email_preview_is_the_alert_as_sent_and_escapes_the_title(app, client, editor):
    login(client, editor)
    _write(client, title="Alcohol consultation <script>alert(1)</script>")
    page = client.get(f"/staff/news/{_item(app).id}/preview-email").get_data(as_text=True)
    assert "CSP news: Alcohol consultation &lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The subject is in words at the top; every header is behind "Technical details".
    summary = page.split('id="email-summary"', 1)[1].split("</dl>", 1)[0]
    assert ">Subject</dt>" in summary
    assert "List-Unsubscribe-Post" not in summary
    headers = page.split('id="email-headers"', 1)[1].split("</details>", 1)[0]
    assert "Technical details" in headers
    assert "List-Unsubscribe-Post" in headers
    assert "/news/alcohol-consultation-script-alert-1-script" in page
    assert "<script>alert(1)" not in page
    # Inside srcdoc the email's own escaping is escaped once more for the attribute.
    srcdoc = page.split('srcdoc="')[1].split('"')[0]
    assert "&amp;lt;script&amp;gt;alert(1)" in srcdoc


def test_admins_create_and_revoke_api_keys_shown_once(app, client, admin):
    login(client, admin)
    page = _post(client, "/staff/api-keys", {"name": "website CMS"}).get_data(as_text=True)
    plaintext = page.split('id="new-key">')[1].split("<")[0]
    assert plaintext.startswith("cspk_")
    listing = client.get("/staff/api-keys").get_data(as_text=True)
    assert plaintext not in listing
    assert plaintext[:12] in listing
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        assert key.key_hash != plaintext
        assert accounts.find_api_key(plaintext).id == key.id
    _post(client, f"/staff/api-keys/{key.id}/revoke", form_page="/staff/api-keys")
    with app.app_context():
        assert db.session.get(ApiKey, key.id).revoked_at is not None
    blank = _post(client, "/staff/api-keys", {"name": "  "})
    assert blank.status_code == 400


def test_create_staff_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["create-staff", "cli@example.gov.uk", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Added cli@example.gov.uk as admin.\n"
    weak = runner.invoke(
        args=["create-staff", "weak@example.gov.uk", "--role", "editor", "--password-stdin"],
        input="short\n",
    )
    assert weak.exit_code == 1
    assert "Password must be at least 12 characters" in weak.output
    twice = runner.invoke(
        args=["create-staff", "cli@example.gov.uk", "--role", "editor", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert "already a staff account" in twice.output


def test_create_staff_asks_twice_and_refuses_a_mismatch(runner):
    result = runner.invoke(
        args=["create-staff", "p@example.gov.uk", "--role", "editor"],
        input=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert "Error: The two entered values do not match." in result.output
    assert result.output.endswith("Added p@example.gov.uk as editor.\n")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (when_fields("2025-03-01", "09:30"), "The date must be in the future"),
        (when_fields("2030-03-31", "1:30am"), "The clocks change at that time"),
        (when_fields("2030-10-27", "01:30"), "The clocks change at that time"),
        (
            {**when_fields("2030-01-01", "9am"), "date-day": "31", "date-month": "2"},
            "Enter a real date",
        ),
        ({**when_fields("2030-01-01", "9am"), "date-year": ""}, "The date must include a year"),
        (
            {**when_fields("2030-01-01", "9am"), "date-day": "", "date-month": "", "date-year": ""},
            "Enter the date to publish it",
        ),
        (when_fields("2030-01-01", "25:00"), "Enter a time like 9:30am or 14:30"),
        (when_fields("2030-01-01", "half nine"), "Enter a time like 9:30am or 14:30"),
        (when_fields("2030-01-01", ""), "Enter the time to publish it, like 9:30am or 14:30"),
    ],
)
def test_past_clock_change_and_malformed_times_are_refused(app, client, editor, fields, message):
    login(client, editor)
    _write(client)
    item = _item(app)
    response = _post(
        client, f"/staff/news/{item.id}/publish", fields, form_page=f"/staff/news/{item.id}"
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _item(app).state is NewsState.DRAFT


@pytest.mark.parametrize(
    ("date", "time", "utc_hour"),
    [("2030-07-01", "9:30am", 8), ("2030-12-02", "09:30", 9), ("2030-12-02", "2:30pm", 14)],
)
def test_a_schedule_is_read_as_uk_time(app, client, editor, date, time, utc_hour):
    login(client, editor)
    _write(client)
    item = _item(app)
    _post(
        client,
        f"/staff/news/{item.id}/publish",
        {**when_fields(date, time), "confirm": "yes"},
        form_page=f"/staff/news/{item.id}",
    )
    item = _item(app)
    assert item.state is NewsState.SCHEDULED
    assert (item.publish_at.hour, item.publish_at.minute) == (utc_hour, 30)


def test_a_long_body_can_be_saved_from_the_form(app, client, editor):
    login(client, editor)
    response = _write(client, body="£ " * 24_000)
    assert response.status_code == 302
    assert len(_item(app).body_markdown) == 47_999


def test_a_locked_account_looks_exactly_like_a_wrong_password(app, client, editor):
    for _ in range(5):
        login(client, editor, "wrong password here")
    locked = login(client, editor, "wrong password here").get_data(as_text=True)
    unknown = login(client, "nobody@example.gov.uk", "wrong password here").get_data(as_text=True)

    def normalise(page, address):
        page = re.sub(r'name="csrf_token" value="[^"]+"', "TOKEN", page)
        return page.replace(address, "ADDRESS")

    assert normalise(locked, editor) == normalise(unknown, "nobody@example.gov.uk")


def test_parallel_guesses_all_count_towards_the_lock_out(app, editor):
    from tests.helpers import at_once

    def guess(start):
        browser = app.test_client()
        token = csrf_token(browser, "/staff/login")
        start()
        return browser.post(
            "/staff/login",
            data={"csrf_token": token, "email": editor, "password": "wrong password here"},
        ).status_code

    assert at_once(guess, times=5) == [401] * 5
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        assert user.locked_until is not None


def test_logging_out_ends_a_copied_session_too(app, client, admin):
    login(client, admin)
    stolen = client.get_cookie("session").value
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/staff/users").status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/staff/news/99999999999",
        "/staff/news/99999999999/preview",
        "/staff/news/99999999999999999999999/edit",
    ],
)
def test_huge_ids_are_not_found(client, editor, path):
    login(client, editor)
    assert client.get(path).status_code == 404


def test_odd_input_in_the_staff_area_is_never_a_500(app, client, editor):
    assert login(client, "edit\x00or@example.gov.uk").status_code == 401
    response = login(client, editor, next_path="/staff%0d%0aX-Injected:%20yes")
    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/?page=%C2%B2").status_code == 200
    assert client.get("/staff/?page=-3&state=nonsense").status_code == 200


def test_two_publishes_at_once_publish_once(app, client, editor):
    from tests.helpers import at_once

    login(client, editor)
    _write(client)
    item_id = _item(app).id
    path = f"/staff/news/{item_id}/publish"
    token = csrf_token(client, f"/staff/news/{item_id}")

    def publish(start):
        start()
        return client.post(path, data={"csrf_token": token, "confirm": "yes"}).status_code

    assert sorted(at_once(publish)) == [302, 409]
    with app.app_context():
        published = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "published")
        ).all()
    assert published == ["published"]


def test_editors_cannot_use_admin_actions(app, client, editor, admin):
    login(client, editor)
    for path, data in (
        ("/staff/api-keys", {"name": "x"}),
        ("/staff/api-keys/1/revoke", {}),
        ("/staff/users", {"email": "e@example.gov.uk"}),
        ("/staff/users/2/access", {"role": "admin", "active": "yes"}),
    ):
        response = _post(client, path, data, form_page="/staff/")
        assert response.status_code == 403, path
    with app.app_context():
        assert db.session.scalar(select(ApiKey)) is None
        roles = sorted(u.role.value for u in db.session.scalars(select(StaffUser)))
    assert roles == ["admin", "editor"]


def test_admins_change_roles_and_deactivate_accounts_which_ends_their_sessions(
    app, client, editor, admin
):
    victim = app.test_client()
    login(victim, editor)
    login(client, admin)
    with app.app_context():
        editor_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == editor))
        admin_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == admin))
    _post(
        client,
        f"/staff/users/{editor_id}/access",
        {"role": "editor", "active": "no"},
        form_page="/staff/users",
    )
    assert victim.get("/staff/").status_code == 302
    assert login(app.test_client(), editor).status_code == 401
    _post(
        client,
        f"/staff/users/{editor_id}/access",
        {"role": "admin", "active": "yes"},
        form_page="/staff/users",
    )
    assert login(app.test_client(), editor).status_code == 302
    own = _post(
        client,
        f"/staff/users/{admin_id}/access",
        {"role": "editor", "active": "no"},
        form_page="/staff/users",
    )
    assert own.status_code == 409
    with app.app_context():
        roles = {u.email: (u.role.value, u.active) for u in db.session.scalars(select(StaffUser))}
    assert roles == {editor: ("admin", True), admin: ("admin", True)}


def test_withdrawing_asks_why_and_the_page_then_says_so(app, client, editor):
    login(client, editor)
    _write(client)
    item = _item(app)
    page = f"/staff/news/{item.id}"
    _post(client, f"{page}/publish", {"confirm": "yes"}, form_page=page)
    refused = _post(client, f"{page}/withdraw", {"reason": "  "}, form_page=page)
    assert refused.status_code == 400
    assert "Say why the news is withdrawn" in refused.get_data(as_text=True)
    too_long = _post(client, f"{page}/withdraw", {"reason": "x" * 301}, form_page=page)
    assert "The reason must be 300 characters or fewer" in too_long.get_data(as_text=True)
    assert _item(app).state is NewsState.PUBLISHED
    done = _post(client, f"{page}/withdraw", {"reason": "The round closed early."}, form_page=page)
    assert done.status_code == 302
    public = client.get(f"/news/{item.slug}").get_data(as_text=True)
    assert "because the round closed early." in public
    assert "The round closed early." in client.get(page).get_data(as_text=True)


def test_urgent_news_needs_a_reason_and_the_check_says_everyone_gets_it_now(app, client, editor):
    login(client, editor)
    _write(client)
    item = _item(app)
    page = f"/staff/news/{item.id}"
    refused = _post(client, f"{page}/publish", {"urgent": "yes"}, form_page=page)
    assert refused.status_code == 400
    assert "Say why this news cannot wait for the digests" in refused.get_data(as_text=True)
    data = {"urgent": "yes", "urgent_reason": "Bids close tomorrow"}
    check = _post(client, f"{page}/publish", data, form_page=page).get_data(as_text=True)
    assert "whatever how often they chose: it is urgent" in check
    assert "Urgent: Bids close tomorrow" in check
    assert "daily digest" not in check
    _post(client, f"{page}/publish", {**data, "confirm": "yes"}, form_page=page)
    item = _item(app)
    assert (item.state, item.urgent, item.urgent_reason) == (
        NewsState.PUBLISHED,
        True,
        "Bids close tomorrow",
    )


def test_the_publish_form_uses_the_date_input_and_the_check_page_carries_the_choice(
    app, client, editor
):
    login(client, editor)
    _write(client)
    item = _item(app)
    form = client.get(f"/staff/news/{item.id}").get_data(as_text=True)
    for name in ("date-day", "date-month", "date-year", "time"):
        assert f'name="{name}"' in form
    assert ">Publish now</label>" in form
    assert ">Schedule</label>" in form
    assert "For example, 27 3 2027" in form
    assert "For example, 9:30am or 14:30" in form
    path = f"/staff/news/{item.id}/publish"
    check = _post(
        client, path, when_fields("2030-12-02", "2:30pm"), form_page=f"/staff/news/{item.id}"
    )
    page = check.get_data(as_text=True)
    assert "It will be published on 2 December 2030 at 2:30pm" in page
    hidden = dict(re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)">', page))
    assert {k: hidden[k] for k in ("when", "date-day", "date-month", "date-year", "time")} == {
        "when": "later",
        "date-day": "2",
        "date-month": "12",
        "date-year": "2030",
        "time": "2:30pm",
    }
    hidden.pop("csrf_token")
    assert _post(client, path, hidden, form_page=f"/staff/news/{item.id}").status_code == 302
    assert _item(app).state is NewsState.SCHEDULED


def test_an_error_on_the_date_links_to_the_day_field(app, client, editor):
    login(client, editor)
    _write(client)
    item = _item(app)
    fields = {**when_fields("2030-01-01", "9am"), "date-month": "13"}
    page = _post(
        client, f"/staff/news/{item.id}/publish", fields, form_page=f"/staff/news/{item.id}"
    )
    text = page.get_data(as_text=True)
    assert '<a href="#date-day">Enter a real date</a>' in text
    assert 'id="date-day-error"' in text
    assert 'value="13"' in text
