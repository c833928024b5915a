"""The public library of effective practice: published case studies found by words and
filters (OR within one filter, AND between them), newest or most relevant first."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select

from mailer.domain import practice_search
from mailer.domain.paging import Page
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyAttachment
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from mailer.models import CaseStudyTag
from mailer.models import Csp
from mailer.models import Nation


class Sort(enum.StrEnum):
    NEWEST = "newest"
    RELEVANCE = "relevance"


@dataclass(frozen=True)
class Filters:
    """What a reader asks the library for; every part is optional."""

    q: str = ""
    themes: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = ()
    nations: tuple[Nation, ...] = ()
    csp: str | None = None
    ratings: tuple[CaseStudyRating, ...] = ()
    evaluated: bool | None = None
    sort: Sort = Sort.NEWEST

    @property
    def by_relevance(self) -> bool:
        """Relevance is an order only when there are words to match."""
        return bool(self.q) and self.sort is Sort.RELEVANCE


def library_page(filters: Filters, *, page: int, per_page: int) -> Page[CaseStudy]:
    """One page of the published case studies that match `filters`."""
    statement = _filtered(filters)
    newest = (CaseStudy.published_at.desc(), CaseStudy.id.desc())
    if not filters.q:
        return _page(statement, statement.order_by(*newest), page, per_page)
    matched = practice_search.matching(statement, filters.q)
    if filters.by_relevance:
        listed = matched.ranked.order_by(matched.rank, *newest)
    else:
        listed = matched.statement.order_by(*newest)
    return _page(matched.statement, listed, page, per_page)


def _page(counted: Select[Any], listed: Select[Any], page: int, per_page: int) -> Page[Any]:
    """One page of `listed`, and the total of `counted`, which counts ids alone (sparing the
    database every matching row's text)."""
    ids = counted.with_only_columns(CaseStudy.id)
    total = db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    page = max(1, page)
    rows = db.session.scalars(listed.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, total, page, per_page)


def _filtered(filters: Filters) -> Select[Any]:
    statement = select(CaseStudy).where(CaseStudy.state == CaseStudyState.PUBLISHED)
    for vocabulary, codes in (("theme", filters.themes), ("crime_type", filters.crime_types)):
        if codes:
            tagged = select(CaseStudyTag.case_study_id).where(
                CaseStudyTag.vocabulary == vocabulary, CaseStudyTag.code.in_(codes)
            )
            statement = statement.where(CaseStudy.id.in_(tagged))
    if filters.nations:
        statement = statement.where(CaseStudy.nation.in_([n.value for n in filters.nations]))
    if filters.csp:
        partnership = select(Csp.id).where(Csp.code == filters.csp)
        statement = statement.where(CaseStudy.csp_id.in_(partnership))
    if filters.ratings:
        statement = statement.where(CaseStudy.rating.in_(filters.ratings))
    if filters.evaluated is not None:
        statement = statement.where(CaseStudy.evaluated.is_(filters.evaluated))
    return statement


def published(slug: str) -> CaseStudy | None:
    """The published case study with this slug."""
    return db.session.scalar(
        select(CaseStudy).where(CaseStudy.slug == slug, CaseStudy.state == CaseStudyState.PUBLISHED)
    )


def latest(*, limit: int) -> Sequence[CaseStudy]:
    """The most recently published case studies, newest first (for the feed)."""
    return db.session.scalars(
        select(CaseStudy)
        .where(CaseStudy.state == CaseStudyState.PUBLISHED)
        .order_by(CaseStudy.published_at.desc(), CaseStudy.id.desc())
        .limit(limit)
    ).all()


def partnerships_with_case_studies() -> Sequence[Csp]:
    """The partnerships that have published case studies, A to Z (the CSP filter's choices)."""
    having = select(CaseStudy.csp_id).where(CaseStudy.state == CaseStudyState.PUBLISHED)
    return db.session.scalars(
        select(Csp).where(Csp.id.in_(having)).order_by(Csp.name, Csp.code)
    ).all()


def tag_codes(case_study: CaseStudy, vocabulary: str) -> list[str]:
    """The codes of one vocabulary a case study is filed under."""
    return [tag.code for tag in case_study.tags if tag.vocabulary == vocabulary]


def attachments(case_study: CaseStudy) -> Sequence[CaseStudyAttachment]:
    """The files that go with a case study, in the order they were added."""
    return list(case_study.attachments)
