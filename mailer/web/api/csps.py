"""The CSP directory in the JSON API: public and read-only, no key needed."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint
from flask import request
from werkzeug.datastructures import MultiDict

from mailer.domain.directory import listing
from mailer.domain.directory.listing import Search
from mailer.domain.directory.presenting import csp_json
from mailer.models import Nation
from mailer.web.api.schema import MAX_PAGE
from mailer.web.api.schema import RequestError

bp = Blueprint("csps", __name__)

PER_PAGE = 50
CODE = re.compile(r"[EW][0-9]{8}")
PFA_CODE = re.compile(r"(E23|W15)[0-9]{6}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@bp.get("/csps")
def list_csps() -> dict[str, Any]:
    """Partnerships A to Z, active and ended, matching the search and filters, a page at a time."""
    search, page = parse_query(request.args)
    found = listing.search_page(search, page=page, per_page=PER_PAGE)
    return {
        "items": [csp_json(csp) for csp in found.items],
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
    }


@bp.get("/csps/<code>")
def get_csp(code: str) -> dict[str, Any]:
    """One partnership by its ONS code."""
    csp = listing.csp_by_code(code) if CODE.fullmatch(code) else None
    if csp is None:
        raise RequestError(404, "not_found", "There is no partnership with this code")
    return csp_json(csp)


def parse_query(args: MultiDict[str, str]) -> tuple[Search, int]:
    """The search and the page number of a query string.

    :raises RequestError: 400 with a message per bad parameter.
    """
    errors: dict[str, str] = {}
    q = args.get("q", "")
    if len(q) > listing.MAX_QUERY or CONTROL.search(q):
        errors["q"] = (
            f"q must be {listing.MAX_QUERY} characters or fewer, with no control characters"
        )
    nation = args.get("nation")
    if nation is not None and nation not in Nation.__members__.values():
        errors["nation"] = "nation must be england or wales"
    pfa = args.get("pfa")
    if pfa is not None and not PFA_CODE.fullmatch(pfa):
        errors["pfa"] = "pfa must be the code of a police force area, like E23000001"
    page = args.get("page", "1")
    if re.fullmatch(r"[0-9]{1,7}", page) is None or not 1 <= int(page) <= MAX_PAGE:
        errors["page"] = f"page must be a whole number from 1 to {MAX_PAGE:,}"
    if errors:
        raise RequestError(400, "invalid_query", "Check the query parameters", fields=errors)
    search = Search(q=q.strip(), nation=Nation(nation) if nation else None, pfa=pfa, ended=True)
    return search, int(page)
