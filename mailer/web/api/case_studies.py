"""Published case studies in the JSON API: public and read-only, no key needed."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import request

from mailer.domain import practice_library
from mailer.domain.practice_enquiries import can_be_contacted
from mailer.domain.practice_terms import SECTIONS
from mailer.models import CaseStudy
from mailer.web.api.schema import MAX_PAGE
from mailer.web.api.schema import RequestError
from mailer.web.practice.filters import filter_errors
from mailer.web.practice.filters import read_filters
from mailer.web.practice.library import attachment_url

bp = Blueprint("case_studies", __name__)

PER_PAGE = 20
SLUG = re.compile(r"[a-z0-9-]{1,120}")


@bp.get("/case-studies")
def list_case_studies() -> dict[str, Any]:
    """Published case studies matching the search and filters, newest (or most relevant)
    first, a page at a time."""
    errors = filter_errors(request.args)
    page = request.args.get("page", "1")
    if re.fullmatch(r"[0-9]{1,7}", page) is None or not 1 <= int(page) <= MAX_PAGE:
        errors["page"] = f"page must be a whole number from 1 to {MAX_PAGE:,}"
    if errors:
        raise RequestError(400, "invalid_query", "Check the query parameters", fields=errors)
    found = practice_library.library_page(
        read_filters(request.args), page=int(page), per_page=PER_PAGE
    )
    return {
        "items": [case_study_json(case) for case in found.items],
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
    }


@bp.get("/case-studies/<slug>")
def get_case_study(slug: str) -> dict[str, Any]:
    """One published case study by its slug."""
    found = practice_library.published(slug) if SLUG.fullmatch(slug) else None
    if found is None:
        raise RequestError(404, "not_found", "There is no published case study with this slug")
    return case_study_json(found)


def case_study_json(case: CaseStudy) -> dict[str, Any]:
    """What the API shows of a published case study: never its submitter's address."""
    base = str(current_app.config["BASE_URL"])
    page_url = f"{base}/effective-practice/{case.slug}"
    answers = case.answers or {}
    return {
        "slug": case.slug,
        "title": case.title,
        "summary": case.summary,
        "url": page_url,
        "csp": {"code": case.csp.code, "name": case.csp.name} if case.csp else None,
        "partners": case.partners,
        "themes": practice_library.tag_codes(case, "theme"),
        "crime_types": practice_library.tag_codes(case, "crime_type"),
        "nation": case.nation,
        "area": case.area,
        "rating": case.rating.value if case.rating else None,
        "evaluated": case.evaluated,
        "started_on": case.started_on.isoformat() if case.started_on else None,
        "ended_on": case.ended_on.isoformat() if case.ended_on else None,
        "sections": {
            key: answers[key]
            for key in SECTIONS
            if isinstance(answers.get(key), str) and answers[key]
        },
        "attachments": [
            {
                "filename": file.filename,
                "content_type": file.content_type,
                "size": file.size,
                "url": base + attachment_url(case, file),
            }
            for file in case.attachments
        ],
        "contact_url": f"{page_url}/contact" if can_be_contacted(case) else None,
        "published_at": _iso(case.published_at),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")
