"""A reader writes to a case study's contact through us: the message is relayed by email and
the contact's address is never shown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from mailer import clock
from mailer.database import transaction
from mailer.domain import practice_enquiries
from mailer.domain import practice_library
from mailer.domain.practice_enquiries import MAX_MESSAGE
from mailer.domain.practice_enquiries import MAX_NAME
from mailer.domain.subscriptions import normalise_address
from mailer.errors import InvalidInput
from mailer.extensions import limiter
from mailer.models import CaseStudy
from mailer.web.practice import bp

# Any control character in a one-line field; tab and newline may stay in a message.
LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A field people never see: only a program fills it in.
HONEYPOT = "website"


def _per_ip() -> str:
    return str(current_app.config["ENQUIRY_RATE_LIMIT"])


def _per_case_study() -> str:
    return str(current_app.config["ENQUIRY_CASE_STUDY_RATE_LIMIT"])


def _case_study_key() -> str:
    return "enquiry:" + str((request.view_args or {}).get("slug", ""))


@bp.route("/<slug>/contact", methods=["GET", "POST"])
@limiter.limit(_per_ip, methods=["POST"])
@limiter.limit(_per_case_study, methods=["POST"], key_func=_case_study_key)
def contact(slug: str) -> Any:
    """The form that sends a message to a case study's contact, if they agreed to it."""
    case_study = _contactable_or_404(slug)
    if request.method != "POST":
        return _form(case_study, MultiDict(), {})
    if request.form.get(HONEYPOT):
        return redirect(url_for(".contact_sent", slug=slug))
    errors, fields = read_enquiry(request.form)
    if errors:
        return _form(case_study, request.form, errors), 400
    with transaction():
        practice_enquiries.send_enquiry(case_study, **fields, now=clock.now())
    return redirect(url_for(".contact_sent", slug=slug))


@bp.get("/<slug>/contact/sent")
def contact_sent(slug: str) -> str:
    """The one answer to every message sent."""
    return render_template("practice/contact_sent.html", case_study=_contactable_or_404(slug))


def read_enquiry(form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A message for each bad field, and the fields as they will be kept."""
    errors: dict[str, str] = {}
    name = str(form.get("name", "")).strip()
    if not name:
        errors["name"] = str(_l("Enter your name"))
    elif len(name) > MAX_NAME or LINE_CONTROL.search(name):
        errors["name"] = str(_l("Your name must be 200 characters or fewer, on one line"))
    try:
        email = normalise_address(str(form.get("email", "")))
    except InvalidInput:
        email = ""
        errors["email"] = str(
            _l("Enter an email address in the correct format, like name@example.com")
        )
    message = TEXT_CONTROL.sub("", str(form.get("message", "")).replace("\r\n", "\n")).strip()
    if not message:
        errors["message"] = str(_l("Enter your message"))
    elif len(message) > MAX_MESSAGE:
        errors["message"] = str(_l("Your message must be 5,000 characters or fewer"))
    return errors, {"name": name, "email": email, "message": message}


def _form(case_study: CaseStudy, form: Mapping[str, str], errors: dict[str, str]) -> str:
    return render_template(
        "practice/contact.html",
        case_study=case_study,
        form=form,
        errors=errors,
        max_name=MAX_NAME,
        max_message=MAX_MESSAGE,
    )


def _contactable_or_404(slug: str) -> CaseStudy:
    found = practice_library.published(slug) if len(slug) <= 120 else None
    if found is None or not practice_enquiries.can_be_contacted(found):
        abort(404)
    return found
