"""The HTML part of digests and alerts as mail clients read it: mobile rules that win over
the inlined styles, a hidden preheader, a light colour scheme, and the table fallbacks that
Outlook for Windows needs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailer.extensions import db
from mailer.models import Frequency
from tests.digests.conftest import AFTER
from tests.digests.conftest import END
from tests.digests.conftest import make_digest
from tests.digests.conftest import make_due
from tests.email_html import Document
from tests.email_html import matches
from tests.email_html import media_blocks
from tests.email_html import parse
from tests.email_html import rules
from tests.factories import add_readers
from tests.factories import publish_news
from tests.helpers import send_queued

SUMMARY = "Bids for round 6 close on 15 January."


def _sent(app, smtpd, frequency):
    """Publish an item (a digest gets a second) for one reader at `frequency`; return the one
    email they get."""
    with app.app_context():
        add_readers(1, follows={"funding": frequency}, now=END - timedelta(days=1))
        publish_news("Safer Streets Fund", summary=SUMMARY, at=END - timedelta(minutes=2))
        if frequency is Frequency.DAILY:
            publish_news("Partnership conference", at=END - timedelta(minutes=1))
        db.session.commit()
    if frequency is Frequency.DAILY:
        make_digest(app)
    else:
        make_due(app, END, frequencies=(Frequency.IMMEDIATE,))
    send_queued(app, now=AFTER)
    [message] = smtpd.drain()
    return message


@pytest.fixture(params=[Frequency.DAILY, Frequency.IMMEDIATE], ids=["digest", "alert"])
def received(request, app, smtpd):
    return _sent(app, smtpd, request.param)


def _mobile_rules(document: Document):
    """The rules of the small-screen @media blocks left in the head."""
    found = []
    for sheet in document.style_sheets:
        for query, block in media_blocks(sheet):
            if "max-width" in query:
                found += block
    return found


def test_the_mobile_rules_stay_in_the_head_and_win_over_the_inlined_styles(app, smtpd):
    document = parse(_sent(app, smtpd, Frequency.DAILY).html)
    rules = _mobile_rules(document)
    assert rules
    overridden = set()
    for rule in rules:
        for element in document.elements:
            if not any(matches(selector, element) for selector in rule.selectors):
                continue
            for name, value in rule.declarations.items():
                if name in element.style:
                    # An inline declaration beats any rule of a style sheet unless that rule
                    # is !important (CSS Cascade 4, 6.1).
                    assert value.endswith("!important"), (rule, element.tag, name)
                    overridden.add((element.tag, name, value))
    # At 375 px the digest's heading is 24 px, not the inlined 28 px.
    assert ("h1", "font-size", "24px !important") in overridden


@pytest.mark.parametrize(
    ("frequency", "preheader"),
    [
        # A digest's titles, newest first; an alert's summary.
        (Frequency.DAILY, "Partnership conference; Safer Streets Fund"),
        (Frequency.IMMEDIATE, SUMMARY),
    ],
    ids=["digest", "alert"],
)
def test_the_first_text_of_the_body_is_a_hidden_preheader_that_sums_the_email(
    app, smtpd, frequency, preheader
):
    received = _sent(app, smtpd, frequency)
    document = parse(received.html)
    assert document.first_text is not None
    element, text = document.first_text
    assert "preheader" in element.classes
    assert text == preheader
    # Hidden in every client: display for most, mso-hide for Outlook, the rest as backup.
    style = element.style
    assert style["display"] == "none"
    assert style["mso-hide"] == "all"
    assert (style["max-height"], style["overflow"], style["opacity"]) == ("0", "hidden", "0")


def test_the_email_asks_mail_clients_for_the_light_colour_scheme_it_was_designed_in(received):
    document = parse(received.html)
    metas = {
        element.attributes.get("name"): element.attributes.get("content")
        for element in document.elements
        if element.tag == "meta" and "head" in element.ancestors
    }
    assert metas["color-scheme"] == "light"
    assert metas["supported-color-schemes"] == "light"
    [root] = [
        rule
        for sheet in document.style_sheets
        for rule in rules(sheet)
        if rule.selectors == (":root",)
    ]
    assert root.declarations["color-scheme"] == "light"
    assert root.declarations["supported-color-schemes"] == "light"


def _outlook_comment_before(html: str, index: int) -> str:
    """The conditional comment for Outlook just before `index`, whitespace aside."""
    before = html[:index].rstrip()
    assert before.endswith("<![endif]-->"), before[-200:]
    return before[before.rindex("<!--[if mso]>") :]


def test_outlook_gets_the_column_as_a_fixed_width_table(received):
    # Outlook for Windows ignores max-width: it gets the 580 px column as a table of its own,
    # in conditional comments that css-inline leaves alone.
    html = received.html
    opening = _outlook_comment_before(html, html.index('<div class="wrapper"'))
    assert re.fullmatch(
        r'<!--\[if mso\]><table role="presentation" align="center" width="580" cellpadding="0" '
        r'cellspacing="0" border="0"><tr><td><!\[endif\]-->',
        opening,
    )
    closing = _outlook_comment_before(html, html.index("</body>"))
    assert closing == "<!--[if mso]></td></tr></table><![endif]-->"
    # Nor does Outlook pass the body's font on into the table.
    assert re.search(r"<!--\[if mso\]><style>td, [^{]*\{ font-family: Arial,[^}]*\}", html)


def test_outlook_gets_the_button_as_a_padded_table_cell(app, smtpd):
    html = _sent(app, smtpd, Frequency.IMMEDIATE).html
    button = re.search(r'<a class="button"[^>]*>Read it on the website</a>', html)
    assert button
    # Outlook drops the padding of a link but keeps that of a table cell.
    assert re.fullmatch(
        r'<!--\[if mso\]><table role="presentation" cellpadding="0" cellspacing="0" border="0">'
        r'<tr><td bgcolor="#00703c" style="padding: 10px 16px;"><!\[endif\]-->',
        _outlook_comment_before(html, button.start()),
    )
    after = html[button.end() :].lstrip()
    assert after.startswith("<!--[if mso]></td></tr></table><![endif]-->")
