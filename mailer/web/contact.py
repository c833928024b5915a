"""Contact the unit: the form and its confirmation. What is sent reaches the staff inbox; the
address typed in is never mailed from here, so the form cannot be used to mail anyone."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from werkzeug.datastructures import MultiDict

from mailer import clock
from mailer.database import transaction
from mailer.domain import contact
from mailer.domain.contact import MAX_MESSAGE
from mailer.domain.contact import MAX_NAME
from mailer.domain.subscriptions import normalise_address
from mailer.errors import InvalidInput
from mailer.extensions import limiter

bp = Blueprint("contact", __name__)

# The subject areas as the form shows them, in the order of domain.contact.SUBJECT_AREAS.
AREA_LABELS = {
    "news": lazy_gettext("The news service and subscriptions"),
    "directory": lazy_gettext("The CSP directory"),
    "practice": lazy_gettext("Effective practice"),
    "feedback": lazy_gettext("Feedback about this website"),
    "other": lazy_gettext("Something else"),
}
# A field people never see (hidden by CSS and from assistive technology): only programs that
# fill in every field fill it in, and what they send is dropped with the usual thanks.
HONEYPOT = "website"


def contact_limit() -> str:
    return str(current_app.config["CONTACT_RATE_LIMIT"])


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(contact_limit, methods=["POST"])
def contact_form() -> Any:
    """The form (`?subject=feedback` picks a subject area); on POST keep the message for staff."""
    if request.method != "POST":
        subject = request.args.get("subject", "")
        form = MultiDict({"subject": subject} if subject in AREA_LABELS else {})
        return _form(form, {})
    if request.form.get(HONEYPOT, "").strip():
        return redirect(url_for(".sent"))
    errors, checked = read_contact(request.form)
    if checked is None:
        return _form(request.form, errors, status=400)
    with transaction():
        tell_unit = bool(current_app.config.get("CONTACT_UNIT_EMAIL"))
        contact.receive(checked, now=clock.now(), tell_unit=tell_unit)
    return redirect(url_for(".sent"))


@bp.get("/contact/sent")
def sent() -> str:
    """The one answer to every message sent."""
    return render_template("contact/sent.html")


def _form(form: MultiDict[str, str], errors: dict[str, str], *, status: int = 200) -> Any:
    page = render_template(
        "contact/form.html",
        form=form,
        errors=errors,
        areas=AREA_LABELS,
        max_name=MAX_NAME,
        max_message=MAX_MESSAGE,
        retention_days=current_app.config["CONTACT_RETENTION_DAYS"],
    )
    return page, status


def read_contact(form: MultiDict[str, str]) -> tuple[dict[str, str], contact.Contact | None]:
    """Check every field of the form; return the errors (in the page's order) or the message."""
    errors: dict[str, str] = {}
    name = str(form.get("name", "")).strip()
    if not name:
        errors["name"] = gettext("Enter your name")
    elif contact.LINE_BREAKS.search(name):
        errors["name"] = gettext("Your name must be on one line, with no special characters")
    elif len(name) > MAX_NAME:
        errors["name"] = gettext("Your name must be %(count)s characters or fewer", count=MAX_NAME)
    email = str(form.get("email", "")).strip()
    if not email:
        errors["email"] = gettext("Enter your email address")
    else:
        try:
            email = normalise_address(email)
        except InvalidInput:
            errors["email"] = gettext(
                "Enter an email address in the correct format, like name@example.com"
            )
    subject = str(form.get("subject", ""))
    if subject not in AREA_LABELS:
        errors["subject"] = gettext("Select what your message is about")
    message = contact.clean_message(str(form.get("message", "")))
    if not message:
        errors["message"] = gettext("Enter your message")
    elif len(message) > MAX_MESSAGE:
        most = format(MAX_MESSAGE, ",")
        errors["message"] = gettext(
            "Your message must be %(count)s characters or fewer", count=most
        )
    if errors:
        return errors, None
    return errors, contact.Contact(name, email, subject, message)
