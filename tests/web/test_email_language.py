"""A subscriber's emails come in the language of the form they signed up on (Welsh under
/cy), and in the one they choose on the manage page after that: through the pages and a real
SMTP server."""

from __future__ import annotations

from sqlalchemy import select

from mailer.extensions import db
from mailer.models import ConsentAction
from mailer.models import ConsentEvent
from mailer.models import Subscriber
from mailer.models import SubscriberStatus
from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued

WELSH_SITE = "Newyddion Partneriaethau Diogelwch Cymunedol"


def _sign_up(client, email="alex@example.com", *, page="/cy/subscribe"):
    """Submit the sign-up form on `page` (the Welsh one unless told), as a browser would."""
    data = {
        "csrf_token": csrf_token(client, page),
        "email": email,
        "topics": ["funding", "events"],
        "frequency": "daily",
    }
    return client.post(page, data=data)


def _subscriber(app, email="alex@example.com"):
    with app.app_context():
        return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def _details(app, action, email="alex@example.com"):
    """The details of the subscriber's consent events of `action`, oldest first."""
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
        return [
            event.detail
            for event in db.session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.subscriber_id == subscriber.id)
                .where(ConsentEvent.action == action)
                .order_by(ConsentEvent.id)
            )
        ]


def _confirmed(app, client, smtpd, *, page="/cy/subscribe"):
    """Sign up on `page`, confirm from the emailed link; return the welcome email."""
    _sign_up(client, page=page)
    send_queued(app)
    confirm_path = link(smtpd.get().text, "/cy/confirm/" if page.startswith("/cy") else "/confirm/")
    client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    send_queued(app)
    return smtpd.get()


def test_signing_up_on_the_welsh_form_sends_the_confirmation_in_welsh(app, client, smtpd):
    assert _sign_up(client).status_code == 302
    assert _subscriber(app).language == "cy"
    assert _details(app, ConsentAction.REQUESTED)[0]["language"] == "cy"

    assert send_queued(app).sent == 1
    email = smtpd.get()
    assert email.message["Subject"] == f"Cadarnhewch eich tanysgrifiad i {WELSH_SITE}"
    assert email.message["Content-Language"] == "cy"
    assert '<html lang="cy"' in email.html
    assert "Mae rhywun, chi fwy na thebyg, wedi gofyn am gael diweddariadau" in email.text
    assert "unwaith y dydd" in email.text
    assert "Mae'r ddolen yn gweithio am 7 diwrnod." in email.text
    assert "Confirm your subscription" not in email.text + email.html
    assert "List-Unsubscribe" not in email.message

    confirm_path = link(email.text, "/cy/confirm/")
    assert confirm_path in email.html
    page = client.get(confirm_path)
    assert page.status_code == 200
    # The Welsh page: its form posts back under /cy.
    assert f'action="{confirm_path}"' in page.text
    confirmed = client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    assert confirmed.status_code == 200
    assert "/cy/manage/" in confirmed.text
    assert _subscriber(app).status is SubscriberStatus.ACTIVE


def test_the_welsh_welcome_links_to_welsh_pages_with_the_list_headers_as_in_english(
    app, client, smtpd
):
    welcome = _confirmed(app, client, smtpd)
    message = welcome.message
    assert message["Subject"] == f"Rydych wedi tanysgrifio i {WELSH_SITE}"
    assert message["Content-Language"] == "cy"
    assert '<html lang="cy"' in welcome.html
    assert "Diolch am gadarnhau." in welcome.text
    manage_path = link(welcome.text, "/cy/manage/")
    assert client.get(manage_path).status_code == 200
    assert link(welcome.html, "/cy/unsubscribe/")
    assert link(welcome.text, "/cy/") == "/cy/"
    # The list headers keep their form: the one-click URL is for mail programs, which POST.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "CSP news <news.csp-news.localhost>"
    one_click = str(message["List-Unsubscribe"]).split(">")[0].lstrip("<")
    assert "/unsubscribe/" in one_click
    assert "/cy/" not in one_click


def test_an_english_subscriber_gets_english_emails_as_before(app, client, smtpd):
    welcome = _confirmed(app, client, smtpd, page="/subscribe")
    assert _subscriber(app).language == "en"
    assert _details(app, ConsentAction.REQUESTED)[0]["language"] == "en"
    assert welcome.message["Subject"] == (
        "You are subscribed to Community Safety Partnerships news"
    )
    assert welcome.message["Content-Language"] == "en"
    assert '<html lang="en"' in welcome.html
    assert "/cy/" not in welcome.text + welcome.html


def test_choosing_welsh_on_the_manage_page_switches_the_next_email(app, client, smtpd):
    welcome = _confirmed(app, client, smtpd, page="/subscribe")
    manage_path = link(welcome.text, "/manage/")
    page = client.get(manage_path)
    assert "Which language do you want emails in?" in page.text
    assert 'value="en" checked' in page.text

    form = {
        "csrf_token": csrf_token(client, manage_path),
        "topics": ["funding"],
        "frequency": "weekly",
        "language": "cy",
    }
    assert client.post(manage_path, data=form).status_code == 302
    assert _subscriber(app).language == "cy"
    assert _details(app, ConsentAction.CHANGED)[-1]["language"] == "cy"
    assert 'value="cy" checked' in client.get(manage_path).text

    client.post(f"{manage_path}/data-copy", data={"csrf_token": csrf_token(client, manage_path)})
    send_queued(app)
    email = smtpd.get()
    assert email.message["Subject"] == f"Eich copi o'ch data {WELSH_SITE}"
    assert email.message["Content-Language"] == "cy"
    my_data = link(email.text, "/cy/my-data/")
    assert client.get(my_data).status_code == 200
    downloaded = client.post(my_data, data={"csrf_token": csrf_token(client, my_data)})
    document = downloaded.get_json()
    assert document["subscriber"]["language"] == "cy"
    assert document["subscriber"]["consent_events"][-1]["detail"]["language"] == "cy"

    form = {**form, "csrf_token": csrf_token(client, manage_path), "language": "en"}
    client.post(manage_path, data=form)
    asked = {"csrf_token": csrf_token(client, "/manage"), "email": "alex@example.com"}
    client.post("/manage", data=asked)
    send_queued(app)
    email = smtpd.get()
    assert email.message["Subject"] == "Manage your Community Safety Partnerships news subscription"
    assert email.message["Content-Language"] == "en"


def test_a_language_the_emails_are_not_written_in_is_refused_with_the_form(app, client, smtpd):
    welcome = _confirmed(app, client, smtpd)
    manage_path = link(welcome.text, "/cy/manage/")
    for value in ("fr", "", "cy\r\nBcc: x@example.com", "c" * 5000):
        form = {
            "csrf_token": csrf_token(client, manage_path),
            "topics": ["funding"],
            "frequency": "daily",
            "language": value,
        }
        response = client.post(manage_path, data=form)
        assert response.status_code == 400
        assert 'href="#language"' in response.text
    assert _subscriber(app).language == "cy"


def test_signing_up_again_on_the_english_form_leaves_an_active_welsh_subscriber_welsh(
    app, client, smtpd
):
    _confirmed(app, client, smtpd)
    _sign_up(client, page="/subscribe")
    assert _subscriber(app).language == "cy"
    send_queued(app)
    # Their topics are all held already: a manage link, in their language.
    email = smtpd.get()
    assert email.message["Content-Language"] == "cy"
    assert link(email.text, "/cy/manage/")


def test_the_subscriber_export_names_each_ones_language(app, client, smtpd, admin):
    _confirmed(app, client, smtpd)
    rows = admin.get("/staff/subscribers/export.csv").get_data(as_text=True).splitlines()
    assert rows[0].endswith(',"language"')
    assert rows[1].startswith('"alex@example.com"')
    assert rows[1].endswith(',"cy"')


def test_staff_see_the_language_of_a_subscribers_emails(app, client, smtpd, admin):
    _confirmed(app, client, smtpd)
    page = admin.get(f"/staff/subscribers/{_subscriber(app).id}").get_data(as_text=True)
    assert 'id="language">Welsh<' in page


def test_more_topics_and_a_new_address_are_confirmed_in_welsh_from_welsh_pages(app, client, smtpd):
    welcome = _confirmed(app, client, smtpd)
    manage_path = link(welcome.text, "/cy/manage/")
    data = {
        "csrf_token": csrf_token(client, "/cy/subscribe"),
        "email": "alex@example.com",
        "topics": ["consultations"],
        "frequency": "weekly",
    }
    client.post("/cy/subscribe", data=data)
    send_queued(app)
    more = smtpd.get()
    assert more.message["Subject"] == (f"Cadarnhewch y pynciau i'w hychwanegu at eich {WELSH_SITE}")
    assert "I gael diweddariadau newyddion unwaith yr wythnos am:" in more.text
    change = link(more.text, "/cy/change/")
    assert client.get(change).status_code == 200

    form = {"csrf_token": csrf_token(client, manage_path), "email": "alex.new@example.com"}
    client.post(f"{manage_path}/email", data=form)
    send_queued(app)
    moved = smtpd.get()
    assert moved.rcpt_tos == ["alex.new@example.com"]
    assert moved.message["Subject"] == f"Cadarnhewch eich cyfeiriad newydd ar gyfer {WELSH_SITE}"
    assert "alex.new@example.com, o hyn ymlaen." in moved.text
    assert client.get(link(moved.text, "/cy/change/")).status_code == 200
