"""The synthetic demo case studies: labelled, spread over themes, nations and ratings, linked
to the directory's partnerships, findable, and loaded once by `mailer seed-practice-demo`."""

from __future__ import annotations

from sqlalchemy import select

from mailer.domain.practice_library import Filters
from mailer.domain.practice_library import library_page
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyRating
from tests import TODAY
from tests.factories import load_directory


def test_the_command_publishes_the_demo_case_studies_once(app, runner):
    with app.app_context():
        load_directory(now=TODAY)
    first = runner.invoke(args=["seed-practice-demo"])
    assert first.exit_code == 0, first.output
    assert "Added 6 synthetic case studies." in first.output
    again = runner.invoke(args=["seed-practice-demo"])
    assert "Added 0 synthetic case studies." in again.output
    with app.app_context():
        studies = db.session.scalars(select(CaseStudy)).all()
        assert len(studies) == 6
        assert all(case.title.startswith("Synthetic example: ") for case in studies)
        assert all("made-up example" in case.summary for case in studies)
        assert {case.nation for case in studies} == {"england", "wales"}
        assert {case.rating for case in studies} == set(CaseStudyRating)
        assert all(case.csp is not None for case in studies)
        found = library_page(Filters(q="wardens"), page=1, per_page=20)
        assert [case.title for case in found.items] == [
            "Synthetic example: Bus stop wardens after school in Northtown"
        ]


def test_the_demo_loads_without_the_directory(app, runner):
    result = runner.invoke(args=["seed-practice-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert all(case.csp_id is None for case in db.session.scalars(select(CaseStudy)))
