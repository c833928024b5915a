"""The staff pages of the CSP directory: the list with a stale filter, editing a partnership's
contact details, the suggestions people sent, and sending a partnership its link."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain.directory import listing
from mailer.domain.directory import self_service
from mailer.domain.directory import suggestions
from mailer.domain.directory.contacts import parse_contact
from mailer.domain.directory.contacts import update_contact
from mailer.domain.directory.listing import Search
from mailer.errors import FieldErrors
from mailer.models import Csp
from mailer.models import CspSuggestion
from mailer.web.csps import CODE
from mailer.web.csps import read_search
from mailer.web.paging import requested_page
from mailer.web.staff.auth import current_actor

bp = Blueprint("csps", __name__)

PAGE_SIZE = 50


@bp.get("/csps")
def directory() -> str:
    """Every partnership, searchable; `stale=1` shows only those not confirmed for a year."""
    found = read_search(request.args)
    stale = request.args.get("stale") == "1"
    today = clock.now().date()
    search = Search(
        q=found.q,
        nation=found.nation,
        pfa=found.pfa,
        ended=True,
        stale_before=listing.stale_before(today) if stale else None,
    )
    page = listing.search_page(search, page=requested_page() or 1, per_page=PAGE_SIZE)
    return render_template(
        "staff/csps.html",
        page=page,
        search=search,
        stale=stale,
        today=today,
        is_stale=listing.is_stale,
        pending=suggestions.pending_suggestions(),
        values={k: v for k, v in (("q", search.q), ("stale", "1" if stale else "")) if v},
    )


@bp.route("/csps/<code>", methods=["GET", "POST"])
def edit(code: str) -> Any:
    """Change a partnership's contact details, and say whether they were confirmed today."""
    csp = _csp_or_404(code)
    if request.method != "POST":
        return _edit_page(csp, _form_of(csp), {})
    return _save(csp, lambda: redirect(url_for(".edit", code=csp.code)))


@bp.route("/csps/suggestions/<int:suggestion_id>", methods=["GET", "POST"])
def review(suggestion_id: int) -> Any:
    """A suggestion beside the edit form: approving saves the form as staff edited it."""
    suggestion = _suggestion_or_404(suggestion_id)
    csp = suggestion.csp
    if request.method != "POST":
        return _edit_page(csp, _form_of(csp), {}, suggestion=suggestion)
    if request.form.get("decision") == "reject":
        with transaction():
            suggestions.decide_suggestion(
                suggestion, approved=False, actor=current_actor(), now=clock.now()
            )
        flash("Suggestion rejected: nothing was changed")
        return redirect(url_for(".directory"))

    def approve() -> Response:
        suggestions.decide_suggestion(
            suggestion, approved=True, actor=current_actor(), now=clock.now()
        )
        return redirect(url_for(".edit", code=csp.code))

    return _save(csp, approve, suggestion=suggestion)


@bp.post("/csps/<code>/send-link")
def send_link(code: str) -> Response:
    """Email the partnership's role mailbox a single-use link to review and confirm its entry."""
    csp = _csp_or_404(code)
    with transaction():
        self_service.send_link(csp, actor=current_actor(), now=clock.now())
    flash(f"A link is on its way to {csp.email}")
    return redirect(url_for(".edit", code=csp.code))


def _save(csp: Csp, then: Any, *, suggestion: CspSuggestion | None = None) -> Any:
    """Save the posted contact details (in one transaction with `then`), or show the errors."""
    try:
        contact = parse_contact(request.form)
    except FieldErrors as error:
        return _edit_page(csp, request.form, error.errors, suggestion=suggestion, status=400)
    confirmed = request.form.get("confirmed") == "yes"
    with transaction():
        update_contact(csp, contact, confirmed=confirmed, actor=current_actor(), now=clock.now())
        response = then()
    flash(f"Saved the contact details of {csp.name}")
    return response


def _edit_page(
    csp: Csp,
    form: MultiDict[str, str],
    errors: dict[str, str],
    *,
    suggestion: CspSuggestion | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "staff/csp_edit.html",
        csp=csp,
        form=form,
        errors=errors,
        suggestion=suggestion,
        pending=suggestions.pending_suggestions(csp=csp),
        history=audit.recent(limit=20, target=csp),
    )
    return page, status


def _form_of(csp: Csp) -> MultiDict[str, str]:
    return MultiDict({"email": csp.email, "phone": csp.phone, "web": csp.web})


def _csp_or_404(code: str) -> Csp:
    csp = listing.csp_by_code(code) if CODE.fullmatch(code) else None
    if csp is None:
        abort(404)
    return csp


def _suggestion_or_404(suggestion_id: int) -> CspSuggestion:
    found = suggestions.suggestion_by_id(suggestion_id)
    if found is None:
        abort(404)
    return found
