"""Finding case studies: only published ones, ranked by where the words are, filtered,
with the reader's words never read as search syntax."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.domain.practice_library import Filters
from mailer.domain.practice_library import Sort
from mailer.domain.practice_library import library_page
from mailer.domain.practice_search import fts5_query
from mailer.extensions import db
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from mailer.models import Nation
from tests import TODAY
from tests.factories import load_directory
from tests.practice_factories import make_case_study


def _titles(filters: Filters, *, page: int = 1, per_page: int = 20) -> list[str]:
    return [case.title for case in library_page(filters, page=page, per_page=per_page).items]


def test_only_published_case_studies_with_search_text_are_found(app):
    with app.app_context():
        make_case_study("Published lighting scheme", now=TODAY)
        make_case_study("Draft lighting scheme", now=TODAY, state=CaseStudyState.DRAFT)
        make_case_study("Rejected lighting scheme", now=TODAY, state=CaseStudyState.REJECTED)
        make_case_study("Unindexed lighting scheme", now=TODAY, searchable=False)
        db.session.commit()
        assert _titles(Filters(q="lighting")) == ["Published lighting scheme"]
        # Without words, every published case study is listed, indexed or not.
        assert sorted(_titles(Filters())) == [
            "Published lighting scheme",
            "Unindexed lighting scheme",
        ]


def test_a_title_match_ranks_above_a_single_mention_in_a_section(app):
    with app.app_context():
        make_case_study(
            "Parks patrols",
            now=TODAY,
            answers={"lessons": "One volunteer suggested better graffiti removal."},
        )
        make_case_study("Graffiti removal squads", now=TODAY - timedelta(days=30))
        db.session.commit()
        relevant = Filters(q="graffiti", sort=Sort.RELEVANCE)
        assert _titles(relevant) == ["Graffiti removal squads", "Parks patrols"]
        # Newest first unless relevance is asked for.
        assert _titles(Filters(q="graffiti")) == ["Parks patrols", "Graffiti removal squads"]


def test_stemming_matches_other_forms_of_a_word(app):
    with app.app_context():
        make_case_study("Mentoring young people", now=TODAY)
        db.session.commit()
        assert _titles(Filters(q="mentor")) == ["Mentoring young people"]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "(((",
        "a) OR (b",
        "NEAR(lighting",
        "lighting AND",
        "-lighting",
        "col:lighting",
        "^lighting*",
        '""""',
        "' OR 1=1 --",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓",
        "x" * 200,
    ],
)
def test_any_query_is_searched_without_an_error(app, query):
    with app.app_context():
        make_case_study("Street lighting", now=TODAY)
        db.session.commit()
        page = library_page(Filters(q=query, sort=Sort.RELEVANCE), page=1, per_page=20)
        assert page.total in (0, 1)


def test_a_phrase_matches_only_the_words_together(app):
    with app.app_context():
        make_case_study("Street lighting upgrade", now=TODAY)
        make_case_study("Lighting the street market", now=TODAY)
        db.session.commit()
        assert _titles(Filters(q='"street lighting"')) == ["Street lighting upgrade"]
        assert len(_titles(Filters(q="street lighting"))) == 2


def test_fts5_queries_quote_every_term():
    assert fts5_query('knife "county lines" OR (x') == '"knife" "county lines" "OR" "x"'
    assert fts5_query("anti-social") == '"anti social"'
    assert fts5_query('"" ()') == ""


def test_filters_are_or_within_one_and_and_between_them(app):
    with app.app_context():
        load_directory(now=TODAY)
        make_case_study(
            "Barnet scheme",
            now=TODAY,
            themes=("domestic-abuse",),
            csp_code="E22000187",
            evaluated=True,
        )
        make_case_study(
            "Welsh scheme",
            now=TODAY,
            themes=("serious-violence",),
            crime_types=("robbery",),
            nation="wales",
            rating=CaseStudyRating.DID_NOT_WORK,
        )
        make_case_study("Other scheme", now=TODAY, themes=("hate-crime",))
        db.session.commit()
        both = Filters(themes=("domestic-abuse", "serious-violence"))
        assert sorted(_titles(both)) == ["Barnet scheme", "Welsh scheme"]
        assert _titles(Filters(themes=("domestic-abuse",), nations=(Nation.WALES,))) == []
        assert _titles(Filters(crime_types=("robbery",))) == ["Welsh scheme"]
        assert _titles(Filters(csp="E22000187")) == ["Barnet scheme"]
        assert _titles(Filters(ratings=(CaseStudyRating.DID_NOT_WORK,))) == ["Welsh scheme"]
        assert _titles(Filters(evaluated=True)) == ["Barnet scheme"]
        assert sorted(_titles(Filters(evaluated=False))) == ["Other scheme", "Welsh scheme"]
        assert _titles(Filters(q="scheme", nations=(Nation.WALES,))) == ["Welsh scheme"]


def test_pages_hold_the_newest_first(app):
    with app.app_context():
        for day in range(5):
            make_case_study(f"Scheme {day}", now=TODAY - timedelta(days=day))
        db.session.commit()
        page = library_page(Filters(), page=2, per_page=2)
        assert (page.total, page.pages) == (5, 3)
        assert [case.title for case in page.items] == ["Scheme 2", "Scheme 3"]
