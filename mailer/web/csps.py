"""The public CSP directory: the A to Z with search and filters, each partnership's page,
suggesting a correction, and the whole directory as CSV and JSON."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from mailer import clock
from mailer.database import transaction
from mailer.domain.csv_cells import neutralise_formula
from mailer.domain.directory import listing
from mailer.domain.directory import self_service as self_service_domain
from mailer.domain.directory import suggestions
from mailer.domain.directory.contacts import parse_contact
from mailer.domain.directory.files import ATTRIBUTION
from mailer.domain.directory.files import LICENCE_URL
from mailer.domain.directory.listing import Search
from mailer.domain.directory.presenting import CSV_COLUMNS
from mailer.domain.directory.presenting import csp_json
from mailer.domain.directory.presenting import csv_row
from mailer.domain.freshness import directory_freshness
from mailer.errors import ExpiredToken
from mailer.errors import FieldErrors
from mailer.errors import InvalidToken
from mailer.extensions import limiter
from mailer.models import Csp
from mailer.models import Nation
from mailer.web.caching import public
from mailer.web.downloads import json_attachment
from mailer.web.paging import requested_page
from mailer.web.public import signup_limit

bp = Blueprint("csps", __name__)

PAGE_SIZE = 20
CODE = re.compile(r"[EW]\d{8}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@bp.context_processor
def _attribution() -> dict[str, str]:
    return {"ons_attribution": ATTRIBUTION, "ogl_url": LICENCE_URL}


def read_search(args: MultiDict[str, str]) -> Search:
    """The search and filters of a query string; values that make no sense are left out."""
    query = CONTROL_CHARACTERS.sub(" ", args.get("q", ""))[: listing.MAX_QUERY].strip()
    nation = args.get("nation", "")
    pfa = args.get("pfa", "")
    letter = args.get("letter", "")
    return Search(
        q=query,
        nation=Nation(nation) if nation in Nation.__members__.values() else None,
        pfa=pfa if CODE.fullmatch(pfa) else None,
        letter=letter if letter in listing.LETTERS else None,
    )


@bp.get("/csps")
@public(directory_freshness)
def directory() -> str:
    """The partnerships A to Z, found by name or council, filtered by nation and force area."""
    search = read_search(request.args)
    number = requested_page()
    if number is None:
        abort(404)
    page = listing.search_page(search, page=number, per_page=PAGE_SIZE)
    if page.page > page.pages:
        abort(404)
    return render_template(
        "csps/index.html",
        page=page,
        search=search,
        values=_values(search),
        letterless={k: v for k, v in _values(search).items() if k != "letter"},
        areas=listing.police_force_areas(),
        letters=listing.LETTERS,
    )


def _values(search: Search) -> dict[str, str]:
    """The query values that make up `search`, for links that keep it."""
    values = {
        "q": search.q,
        "nation": search.nation.value if search.nation else "",
        "pfa": search.pfa or "",
        "letter": search.letter or "",
    }
    return {key: value for key, value in values.items() if value}


@bp.get("/csps/<code>")
@public(directory_freshness)
def csp_page(code: str) -> str:
    """One partnership: its councils, police force area and contact details."""
    csp = _csp_or_404(code)
    successor = listing.csp_by_code(csp.successor_code) if csp.successor_code else None
    return render_template("csps/csp.html", csp=csp, successor=successor)


@bp.route("/csps/<code>/suggest", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def suggest(code: str) -> Any:
    """A short form to tell staff what is wrong; the same thanks whatever was sent."""
    csp = _csp_or_404(code)
    if request.method != "POST":
        return render_template("csps/suggest.html", csp=csp, form=MultiDict(), errors={})
    try:
        problem, correction, email = suggestions.parse_suggestion(request.form)
    except FieldErrors as error:
        page = render_template("csps/suggest.html", csp=csp, form=request.form, errors=error.errors)
        return page, 400
    with transaction():
        suggestions.add_suggestion(csp, problem, correction, email, now=clock.now())
    return redirect(url_for(".suggested", code=csp.code))


@bp.get("/csps/<code>/suggested")
def suggested(code: str) -> str:
    """The one answer to every suggestion."""
    return render_template("csps/suggested.html", csp=_csp_or_404(code))


@bp.get("/csps/directory.json")
def directory_json() -> WerkzeugResponse:
    """Every partnership, active and ended, as JSON, with the ONS attribution."""
    document = {
        "attribution": ATTRIBUTION,
        "licence": LICENCE_URL,
        "items": [csp_json(csp) for csp in listing.all_csps()],
    }
    return json_attachment(document, "csp-directory")


@bp.get("/csps/directory.csv")
def directory_csv() -> Response:
    """Every partnership as CSV (UTF-8 with a byte order mark, for spreadsheets); each row
    carries the ONS attribution, and no cell can run as a formula."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for csp in listing.all_csps():
        writer.writerow([neutralise_formula(cell) for cell in csv_row(csp)])
    response = Response(out.getvalue(), mimetype="text/csv")
    day = clock.now().date().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="csp-directory-{day}.csv"'
    return response


@bp.after_request
def _private_link_pages(response: Response) -> Response:
    """A partnership's link page: never cached, and its address never leaks as a referrer."""
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/csps/update/<token>", methods=["GET", "POST"])
def self_service(token: str) -> Any:
    """The page a partnership's emailed link opens: review, correct and confirm its contact
    details. Saving spends the link; opening it does not (mail scanners open links)."""
    csp = self_service_domain.csp_for_link(token)
    if request.method != "POST":
        form = MultiDict({"email": csp.email, "phone": csp.phone, "web": csp.web})
        return render_template("csps/self_service.html", csp=csp, form=form, errors={})
    try:
        contact = parse_contact(request.form)
    except FieldErrors as error:
        page = render_template(
            "csps/self_service.html", csp=csp, form=request.form, errors=error.errors
        )
        return page, 400
    with transaction():
        csp = self_service_domain.csp_for_link(token, lock=True)
        self_service_domain.confirm_by_partnership(csp, contact, now=clock.now())
    return render_template("csps/self_service_done.html", csp=csp)


@bp.errorhandler(InvalidToken)
def _link_error(error: InvalidToken) -> tuple[str, int]:
    """A partnership's link that is tampered with, used already or too old."""
    expired = isinstance(error, ExpiredToken)
    return render_template("csps/link_error.html", expired=expired), 400


def _csp_or_404(code: str) -> Csp:
    csp = listing.csp_by_code(code) if CODE.fullmatch(code) else None
    if csp is None:
        abort(404)
    return csp
