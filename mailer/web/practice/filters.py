"""The library's search and filters, read from a query string (the pages and the API)."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from mailer.domain import practice_terms
from mailer.domain.practice_library import Filters
from mailer.domain.practice_library import Sort
from mailer.domain.practice_search import MAX_QUERY
from mailer.domain.practice_search import clean_query
from mailer.models import CaseStudyRating
from mailer.models import Nation

CSP_CODE = re.compile(r"[EW][0-9]{8}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EVALUATED = {"yes": True, "no": False}
# No filter has more choices than this; more values are nonsense.
MAX_VALUES = 20
LISTS = {
    "theme": tuple(practice_terms.THEMES),
    "crime_type": tuple(practice_terms.CRIME_TYPES),
    "nation": tuple(n.value for n in Nation),
    "rating": tuple(r.value for r in CaseStudyRating),
}


def read_filters(args: MultiDict[str, str]) -> Filters:
    """The filters of a page's query string: values that make no sense are left out and a
    long query is cut."""
    chosen = {name: _known(args, name) for name in LISTS}
    csp = args.get("csp", "")
    return Filters(
        q=clean_query(args.get("q", "")),
        themes=chosen["theme"],
        crime_types=chosen["crime_type"],
        nations=tuple(Nation(value) for value in chosen["nation"]),
        csp=csp if CSP_CODE.fullmatch(csp) else None,
        ratings=tuple(CaseStudyRating(value) for value in chosen["rating"]),
        evaluated=EVALUATED.get(args.get("evaluated", "")),
        sort=Sort.RELEVANCE if args.get("sort") == Sort.RELEVANCE.value else Sort.NEWEST,
    )


def filter_errors(args: MultiDict[str, str]) -> dict[str, str]:
    """What is wrong with each parameter of an API query string (none: it is good)."""
    errors: dict[str, str] = {}
    q = args.get("q", "")
    if len(q) > MAX_QUERY or CONTROL.search(q):
        errors["q"] = f"q must be {MAX_QUERY} characters or fewer, with no control characters"
    for name, allowed in LISTS.items():
        values = args.getlist(name)
        if len(values) > MAX_VALUES or any(value not in allowed for value in values):
            errors[name] = f"each {name} must be one of: {', '.join(allowed)}"
    if "csp" in args and not CSP_CODE.fullmatch(args["csp"]):
        errors["csp"] = "csp must be the ONS code of a partnership, like E22000187"
    if "evaluated" in args and args["evaluated"] not in EVALUATED:
        errors["evaluated"] = "evaluated must be yes or no"
    if "sort" in args and args["sort"] not in tuple(Sort):
        errors["sort"] = "sort must be newest or relevance"
    return errors


def filter_values(filters: Filters) -> dict[str, str | list[str]]:
    """The query values that make up `filters`, for links that keep them."""
    values: dict[str, str | list[str]] = {
        "q": filters.q,
        "theme": list(filters.themes),
        "crime_type": list(filters.crime_types),
        "nation": [n.value for n in filters.nations],
        "csp": filters.csp or "",
        "rating": [r.value for r in filters.ratings],
        "evaluated": {True: "yes", False: "no", None: ""}[filters.evaluated],
        "sort": filters.sort.value if filters.q and filters.sort is Sort.RELEVANCE else "",
    }
    return {key: value for key, value in values.items() if value}


def _known(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    allowed = LISTS[name]
    return tuple(dict.fromkeys(v for v in args.getlist(name)[:MAX_VALUES] if v in allowed))
