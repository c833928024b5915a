"""The development outbox page."""

from __future__ import annotations

from email.message import EmailMessage

from mailer.paths import open_outbox


def _keep(app, subject, text, html):
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = "someone@example.com"
    message["Date"] = "Wed, 25 Nov 2026 09:30:00 +0000"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return open_outbox(app.config["OUTBOX_DIR"]).add(message)


def test_the_outbox_lists_messages_and_shows_live_links_and_escaped_html(app, client):
    assert "The outbox is empty" in client.get("/outbox/").get_data(as_text=True)
    key = _keep(
        app,
        "Confirm <now>",
        "Open http://127.0.0.1:5000/confirm/abc.def please",
        '<p onclick="x()">Hi <b>there</b></p>',
    )
    listing = client.get("/outbox/").get_data(as_text=True)
    assert f'href="/outbox/{key}">Confirm &lt;now&gt;</a>' in listing
    page = client.get(f"/outbox/{key}").get_data(as_text=True)
    assert '<a href="http://127.0.0.1:5000/confirm/abc.def">' in page
    assert 'sandbox="allow-popups allow-top-navigation-by-user-activation"' in page
    assert 'srcdoc="&lt;p onclick=&#34;x()&#34;&gt;' in page


def test_an_unknown_message_is_a_404(client):
    assert client.get("/outbox/no-such-key").status_code == 404
