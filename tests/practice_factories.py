"""Test data for effective practice: case studies as practice-submit leaves them once
published (search text filled in as it is at publishing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailer.domain import practice_terms
from mailer.domain.directory.listing import csp_by_code
from mailer.domain.slugs import slugify
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from mailer.models import CaseStudyTag


def make_case_study(
    title: str,
    *,
    now: datetime,
    summary: str = "A partnership tried something and wrote down what happened.",
    answers: dict[str, str] | None = None,
    themes: Sequence[str] = ("anti-social-behaviour",),
    crime_types: Sequence[str] = (),
    csp_code: str | None = None,
    state: CaseStudyState = CaseStudyState.PUBLISHED,
    rating: CaseStudyRating = CaseStudyRating.WORKED,
    searchable: bool = True,
    **overrides: Any,
) -> CaseStudy:
    """A case study, published at `now` unless another state is given; flushed, not committed."""
    answers = answers if answers is not None else {"problem": "Nuisance in the town centre."}
    tags = [("theme", code) for code in themes] + [("crime_type", c) for c in crime_types]
    csp = csp_by_code(csp_code) if csp_code else None
    published = state is CaseStudyState.PUBLISHED
    values: dict[str, Any] = {
        "slug": slugify(title)[:120] if published else None,
        "state": state,
        "title": title,
        "summary": summary,
        "answers": answers,
        "csp_id": csp.id if csp else None,
        "nation": "england",
        "area": "Northtown",
        "rating": rating,
        "contact_role": "Community safety manager",
        "contact_consent": True,
        "declaration": True,
        "submitter_email": "submitter@example.org",
        "search_text": practice_terms.search_text(title, summary, answers, tags)
        if searchable
        else "",
        "published_at": now if published else None,
        "submitted_at": now,
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    case_study = CaseStudy(**values)
    case_study.tags = [CaseStudyTag(vocabulary=v, code=code) for v, code in tags]
    db.session.add(case_study)
    db.session.flush()
    return case_study
