"""Staff pages for bulletins: write, preview, test, approve, check the audience, send or
schedule, cancel."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.delivery.direct import NotSent
from mailer.delivery.direct import send_test
from mailer.delivery.messages import MailSettings
from mailer.delivery.messages import compose_bulletin
from mailer.domain import audit
from mailer.domain import bulletins
from mailer.domain import news
from mailer.domain import segments
from mailer.domain import welsh_content
from mailer.domain.topics import list_topics
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.models import Bulletin
from mailer.models import NewsItem
from mailer.web.paging import requested_page
from mailer.web.security import shows_email
from mailer.web.staff.auth import current_actor
from mailer.web.staff.auth import current_staff
from mailer.web.staff.schedule_form import scheduled_time

bp = Blueprint("bulletins", __name__)


@bp.get("/bulletins")
def bulletin_list() -> str:
    """Every bulletin, most recently changed first."""
    page = bulletins.bulletins_page(page=requested_page() or 1, per_page=25)
    runs = {bulletin.id: bulletins.run_of(bulletin) for bulletin in page.items}
    return render_template("staff/bulletins.html", page=page, runs=runs)


@bp.route("/bulletins/new", methods=["GET", "POST"])
def new_bulletin() -> Any:
    """Write a new draft bulletin."""
    if request.method != "POST":
        return _form(MultiDict({"audience": "topics", "public": "yes"}), {})
    try:
        with transaction():
            content, welsh = _read()
            found = bulletins.create(content, actor=current_actor(), now=clock.now())
            welsh_content.apply(found, welsh)
    except FieldErrors as error:
        return _form(request.form, error.errors, status=400)
    flash("Draft saved")
    return redirect(url_for("staff.bulletins.bulletin", bulletin_id=found.id))


@bp.route("/bulletins/<int:bulletin_id>/edit", methods=["GET", "POST"])
def edit_bulletin(bulletin_id: int) -> Any:
    """Change a bulletin not yet sent; an approved one goes back to draft."""
    found = _bulletin_or_404(bulletin_id, lock=request.method == "POST")
    if request.method != "POST":
        return _form(_filled(found), {}, bulletin=found)
    try:
        with transaction():
            content, welsh = _read()
            bulletins.update(found, content, actor=current_actor(), now=clock.now())
            welsh_content.apply(found, welsh)
    except FieldErrors as error:
        return _form(request.form, error.errors, status=400, bulletin=found)
    flash("Changes saved")
    return redirect(url_for("staff.bulletins.bulletin", bulletin_id=found.id))


@bp.get("/bulletins/<int:bulletin_id>")
def bulletin(bulletin_id: int) -> str:
    """A bulletin with its state, what can be done next, and its history."""
    return _page(_bulletin_or_404(bulletin_id), "staff/bulletin.html")


@bp.get("/bulletins/<int:bulletin_id>/send")
def check(bulletin_id: int) -> str:
    """Before sending: who will get it, and send now or at a time."""
    return _page(_bulletin_or_404(bulletin_id), "staff/bulletin_send.html")


@bp.post("/bulletins/<int:bulletin_id>/send")
def send(bulletin_id: int) -> Any:
    """Send now, or schedule when the form says later."""
    found = _bulletin_or_404(bulletin_id, lock=True)
    approval = bool(current_app.config["BULLETIN_APPROVAL_REQUIRED"])
    now = clock.now()
    try:
        at = _when(request.form)
        with transaction():
            if at is None:
                bulletins.send_now(found, actor=current_actor(), now=now, approval=approval)
            else:
                bulletins.schedule(found, at, actor=current_actor(), now=now, approval=approval)
    except InvalidInput as error:
        errors = {error.field: error.message}
        return _page(found, "staff/bulletin_send.html", errors=errors, form=request.form), 400
    flash("Scheduled" if at else "Sent: the emails are on their way")
    return redirect(url_for("staff.bulletins.bulletin", bulletin_id=found.id))


@bp.post("/bulletins/<int:bulletin_id>/submit")
def submit(bulletin_id: int) -> Response:
    """Ask another member of staff to approve it."""
    return _move(bulletin_id, bulletins.submit, "Submitted for approval")


@bp.post("/bulletins/<int:bulletin_id>/approve")
def approve(bulletin_id: int) -> Response:
    """Approve it; whoever submitted it cannot."""
    return _move(bulletin_id, bulletins.approve, "Approved")


@bp.post("/bulletins/<int:bulletin_id>/cancel")
def cancel(bulletin_id: int) -> Response:
    """Stop a scheduled sending."""
    return _move(bulletin_id, bulletins.cancel, "Cancelled")


def _move(bulletin_id: int, change: Callable[..., None], done: str) -> Response:
    found = _bulletin_or_404(bulletin_id, lock=True)
    with transaction():
        change(found, actor=current_actor(), now=clock.now())
    flash(done)
    return redirect(url_for("staff.bulletins.bulletin", bulletin_id=found.id))


@bp.get("/bulletins/<int:bulletin_id>/preview")
@shows_email
def preview(bulletin_id: int) -> str:
    """The email exactly as a reader gets it, built by the code that sends it."""
    found = _bulletin_or_404(bulletin_id)
    outgoing = compose_bulletin(
        found,
        bulletins.featured(found),
        to="subscriber@example.com",
        settings=MailSettings.from_config(current_app.config),
        now=clock.now(),
    )
    message = email.message_from_bytes(outgoing.data, policy=email.policy.default)
    return render_template("staff/bulletin_preview.html", bulletin=found, message=message)


@bp.post("/bulletins/<int:bulletin_id>/test")
def send_to_me(bulletin_id: int) -> Any:
    """Send one copy, marked as a test, to the logged-in member of staff."""
    found = _bulletin_or_404(bulletin_id)
    user = current_staff()
    if user is None:  # require_login runs first
        abort(401)
    with transaction():
        bulletins.record_test(found, to=user.email, actor=current_actor(), now=clock.now())
    try:
        items = bulletins.featured(found)
        send_test(found, items, to=user.email, config=current_app.config, now=clock.now())
    except NotSent as error:
        errors = {"test": f"The test could not be sent: {error}"}
        return _page(found, "staff/bulletin.html", errors=errors), 502
    flash(f"A test was sent to {user.email}")
    return redirect(url_for("staff.bulletins.bulletin", bulletin_id=found.id))


def _when(form: MultiDict[str, str]) -> datetime | None:
    """None to send now, or the time to send at."""
    zone = current_app.config["TIMEZONE"]
    return scheduled_time(form, zone=zone, now=clock.now(), verb="send")


def _page(found: Bulletin, template: str, **extra: Any) -> str:
    context = {"errors": {}, "form": MultiDict(), **extra}
    return render_template(
        template,
        bulletin=found,
        audience=bulletins.audience_count(found),
        segment=segments.from_stored(found.segment),
        segment_words=segments.describe(segments.from_stored(found.segment)),
        run=bulletins.run_of(found),
        items=bulletins.featured(found),
        history=audit.recent(target=found),
        approval=bool(current_app.config["BULLETIN_APPROVAL_REQUIRED"]),
        **context,
    )


def _bulletin_or_404(bulletin_id: int, *, lock: bool = False) -> Bulletin:
    found = bulletins.bulletin_by_id(bulletin_id, lock=lock)
    if found is None:
        abort(404)
    return found


def _filled(found: Bulletin) -> MultiDict[str, str]:
    """The form as the bulletin is now."""
    pairs = [
        ("subject", found.subject),
        ("body", found.body_markdown),
        ("audience", "everyone" if found.everyone else "topics"),
    ]
    pairs += [("topics", topic.slug) for topic in found.topics]
    pairs += [("items", str(row.news_item_id)) for row in found.items]
    pairs += segments.form_pairs(found.segment)
    if found.public:
        pairs.append(("public", "yes"))
    return MultiDict(pairs + welsh_content.form_pairs(found))


def _form(
    form: MultiDict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
    bulletin: Bulletin | None = None,
) -> tuple[str, int]:
    """The compose form, offering the latest published items and any already featured."""
    recent: list[NewsItem] = list(news.published_page(per_page=30).items)
    if bulletin is not None:
        recent += [row.news_item for row in bulletin.items if row.news_item not in recent]
    page = render_template(
        "staff/bulletin_form.html",
        form=form,
        errors={field.replace(".", "-"): message for field, message in errors.items()},
        choices=segments.choices(),
        bulletin=bulletin,
        topics=[topic for topic in list_topics() if topic.retired_at is None],
        recent=recent,
    )
    return page, status


def _read() -> tuple[bulletins.Content, dict[str, str]]:
    """The bulletin and its Welsh texts, with every error at once.

    :raises FieldErrors: a message per bad field.
    """
    errors: dict[str, str] = {}
    content = None
    welsh: dict[str, str] = {}
    try:
        content = _content()
    except FieldErrors as error:
        errors.update(error.errors)
    try:
        welsh = welsh_content.validate(request.form, welsh_content.BULLETIN_FIELDS)
    except FieldErrors as error:
        errors.update(error.errors)
    if errors or content is None:
        raise FieldErrors(errors)
    return content, welsh


def _content() -> bulletins.Content:
    form = request.form
    everyone = form.get("audience") == "everyone"
    ids = [
        int(v) if v.isascii() and v.isdigit() and len(v) < 12 else v for v in form.getlist("items")
    ]
    return bulletins.validate(
        subject=form.get("subject"),
        body=form.get("body"),
        everyone=everyone,
        topic_slugs=[] if everyone else form.getlist("topics"),
        item_ids=ids,
        public="public" in form,
        segment=segments.from_form(form),
    )


LONG_FORMS = frozenset({"staff.bulletins.new_bulletin", "staff.bulletins.edit_bulletin"})


def allow_long_forms() -> None:
    """An introduction may be as long as a news body, more than the site-wide form limit.

    An app-wide hook, registered before CSRF protection, which reads the form first.
    """
    if request.endpoint in LONG_FORMS:
        request.max_content_length = 1024 * 1024
        request.max_form_memory_size = 1024 * 1024
