"""Submitting a case study: the start page, the email with a link to the draft (the same
answer whatever the address), the single-use link that lets this browser work on the draft,
the task list and its sections, checking the answers and sending it for review."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import practice_drafts as drafts
from mailer.domain.practice_tasks import NATIONS
from mailer.domain.practice_tasks import TASK_KEYS
from mailer.domain.practice_tasks import TASKS
from mailer.domain.practice_tasks import read_task
from mailer.domain.practice_terms import CRIME_TYPES
from mailer.domain.practice_terms import RATINGS
from mailer.domain.practice_terms import THEMES
from mailer.domain.subscriptions import normalise_address
from mailer.errors import ExpiredToken
from mailer.errors import FieldErrors
from mailer.errors import InvalidInput
from mailer.errors import InvalidToken
from mailer.extensions import limiter
from mailer.models import CaseStudy
from mailer.web.practice import bp
from mailer.web.public import signup_limit

# The drafts this browser may work on, kept in its session cookie (signed by Flask).
SESSION_KEY = "case_studies"
MAX_DRAFTS_IN_SESSION = 10
# Sections and uploads send more than the site-wide limit on a form.
LONG_FORMS = frozenset({"practice.task", "practice.check_answers"})


class NoAccess(Exception):
    """This browser has not opened an emailed link to the draft."""


def allow_long_forms() -> None:
    """A section holds up to four long answers, more than the site-wide limit on a form.
    An app-wide hook, registered before CSRF protection, which reads the form first."""
    if request.endpoint in LONG_FORMS:
        request.max_content_length = 1024 * 1024
        request.max_form_memory_size = 1024 * 1024


@bp.after_request
def _private_pages(response: Response) -> Response:
    """Drafts and their links are private: never cached, the link never sent as a referrer."""
    if request.endpoint and request.endpoint.startswith("practice.") and "/submit" in request.path:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/submit")
def submit_start() -> str:
    """The start page: what you need, how long it takes, no account."""
    return render_template("practice/submit_start.html")


@bp.route("/submit/email", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def submit_email() -> Any:
    """Ask for an address, start a draft and email it a link; the same answer for every
    address."""
    return _ask_for_address("start", drafts.start_draft)


@bp.route("/submit/new-link", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def new_link() -> Any:
    """Email a fresh link to each draft of an address; the same answer for every address."""
    return _ask_for_address("new", drafts.resend_links)


def _ask_for_address(variant: str, act: Any) -> Any:
    if request.method != "POST":
        return render_template("practice/email.html", variant=variant, form=MultiDict(), errors={})
    try:
        email = normalise_address(request.form.get("email", ""))
    except InvalidInput as error:
        errors = {error.field: error.message}
        page = render_template(
            "practice/email.html", variant=variant, form=request.form, errors=errors
        )
        return page, 400
    with transaction():
        act(email, now=clock.now())
    return redirect(url_for(".check_email"))


@bp.get("/submit/check-your-email")
def check_email() -> str:
    return render_template("practice/check_email.html")


@bp.route("/submit/link/<token>", methods=["GET", "POST"])
def open_link(token: str) -> Any:
    """The emailed link: one button (mail scanners that fetch links spend nothing); pressing
    it spends the link and lets this browser work on the draft."""
    if request.method != "POST":
        drafts.case_study_for_link(token)
        return render_template("practice/link.html", token=token)
    with transaction():
        case_study = drafts.use_link(token, now=clock.now())
        case_study_id = case_study.id
    ids = [i for i in session.get(SESSION_KEY, []) if i != case_study_id]
    session[SESSION_KEY] = [*ids[-(MAX_DRAFTS_IN_SESSION - 1) :], case_study_id]
    return redirect(url_for(".draft", case_study_id=case_study_id))


@bp.errorhandler(InvalidToken)
def _link_error(error: InvalidToken) -> tuple[str, int]:
    """A link that is tampered with, used already or too old."""
    expired = isinstance(error, ExpiredToken)
    return render_template("practice/link_error.html", expired=expired), 400


@bp.errorhandler(NoAccess)
def _no_access(error: NoAccess) -> tuple[str, int]:
    return render_template("practice/no_access.html"), 403


def _draft(case_study_id: int, *, lock: bool = False) -> CaseStudy:
    """The draft, if this browser opened its link; else a page saying how to get one."""
    if case_study_id not in session.get(SESSION_KEY, []):
        raise NoAccess()
    case_study = drafts.editable(case_study_id, lock=lock)
    if case_study is None:
        raise NoAccess()
    return case_study


@bp.get("/submit/<int:case_study_id>")
def draft(case_study_id: int) -> str:
    """The task list: each section with its status."""
    case_study = _draft(case_study_id)
    rows = drafts.statuses(case_study)
    done = sum(1 for _, status in rows if status == drafts.COMPLETED)
    return render_template("practice/task_list.html", case_study=case_study, rows=rows, done=done)


@bp.route("/submit/<int:case_study_id>/<task_key>", methods=["GET", "POST"])
def task(case_study_id: int, task_key: str) -> Any:
    """One section: its questions, saved as they are (in progress) or marked completed."""
    section = TASK_KEYS.get(task_key)
    if section is None or not section.questions:
        abort(404)
    case_study = _draft(case_study_id)
    if request.method != "POST":
        form = MultiDict(drafts.form_values(case_study, section))
        status = drafts.task_status(case_study, section.key)
        if status != drafts.NOT_STARTED:
            form["completed"] = "yes" if status == drafts.COMPLETED else "no"
        return _task_page(case_study, section, form, {})
    errors: dict[str, str] = {}
    completed = request.form.get("completed")
    if completed not in ("yes", "no"):
        errors["completed"] = str(_l("Select whether you have completed this section"))
    try:
        values = read_task(section, request.form, complete=completed == "yes", csps=_codes())
    except FieldErrors as error:
        errors = error.errors | errors
    if errors:
        return _task_page(case_study, section, request.form, errors), 400
    with transaction():
        case_study = _draft(case_study_id, lock=True)
        drafts.save_task(case_study, section, values, complete=completed == "yes", now=clock.now())
    return redirect(url_for(".draft", case_study_id=case_study_id))


def _codes() -> set[str]:
    return {csp.code for csp in drafts.current_csps()}


def _choices() -> dict[str, dict[str, Any]]:
    """The options of each kind of question, in the reader's language."""
    return {
        "themes": {code: _l(label) for code, label in THEMES.items()},
        "crime_types": {code: _l(label) for code, label in CRIME_TYPES.items()},
        "nation": NATIONS,
        "rating": {rating.value: _l(label) for rating, label in RATINGS.items()},
        "yesno": {"yes": _l("Yes"), "no": _l("No")},
        "csp": {csp.code: csp.name for csp in drafts.current_csps()},
    }


def _answer_text(question: Any, values: dict[str, Any], choices: dict[str, Any]) -> str:
    """One saved answer as the check-your-answers page shows it."""
    kind, value = question.kind, values.get(question.name)
    if kind in ("themes", "crime_types"):
        return ", ".join(str(choices[kind].get(code, code)) for code in value or [])
    if kind in choices:
        return str(choices[kind].get(value, "")) if value else ""
    if kind == "tick":
        return str(_l("Yes")) if value else str(_l("No"))
    if kind == "date":
        day, month, year = (values.get(f"{question.name}-{p}") for p in ("day", "month", "year"))
        return f"{day}/{month}/{year}" if year else ""
    return str(value or "")


def answer_rows(case_study: CaseStudy) -> list[tuple[Any, list[tuple[Any, str]]]]:
    """Each section with its questions and answers, for checking."""
    choices = _choices()
    rows = []
    for section in TASKS:
        values = drafts.form_values(case_study, section)
        answers = [(q.label, _answer_text(q, values, choices)) for q in section.questions]
        rows.append((section, answers))
    return rows


def _task_page(case_study: CaseStudy, section: Any, form: Any, errors: dict[str, str]) -> Any:
    choices = _choices()
    return render_template(
        "practice/task.html",
        case_study=case_study,
        task=section,
        form=form,
        errors=errors,
        choices=choices,
    )


@bp.route("/submit/<int:case_study_id>/check", methods=["GET", "POST"])
def check_answers(case_study_id: int) -> Any:
    """Every answer on one page with a change link for each section; submitting sends it
    for review."""
    case_study = _draft(case_study_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            with transaction():
                drafts.submit(_draft(case_study_id, lock=True), now=clock.now())
        except FieldErrors as error:
            errors = error.errors
        else:
            return redirect(url_for(".submitted"))
    page = render_template(
        "practice/check_answers.html",
        case_study=case_study,
        rows=answer_rows(case_study),
        errors=errors,
    )
    return (page, 400) if errors else page


@bp.get("/submit/sent")
def submitted() -> str:
    return render_template("practice/submitted.html")
