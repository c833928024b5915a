"""Loading the ONS lists into the CSP directory: the shipped 2019 files, loading again, and a
later vintage in which partnerships merge, are renamed, are added and end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from mailer.domain.directory.files import DirectoryFileError
from mailer.domain.directory.files import read_vintage
from mailer.domain.directory.listing import csp_by_code
from mailer.domain.directory.loading import apply_load
from mailer.domain.directory.loading import plan_load
from mailer.extensions import db
from mailer.models import AuditEvent
from mailer.models import Council
from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Nation
from mailer.models import PoliceForceArea
from tests import TODAY

NAMES = "CSP19CD,CSP19NM,CSP19NMW\n"
LOOKUP = "LAD19CD,LAD19NM,CSP19CD,CSP19NM,PFA19CD,PFA19NM\n"


def write_vintage(folder: Path, names: str, lookup: str) -> list[Path]:
    """A names file and a lookup file, each under its ONS header."""
    folder.mkdir(exist_ok=True)
    (folder / "names.csv").write_text(NAMES + names, encoding="utf-8")
    (folder / "lookup.csv").write_text(LOOKUP + lookup, encoding="utf-8")
    return [folder / "names.csv", folder / "lookup.csv"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_loading_the_shipped_files_gives_314_partnerships_their_councils_and_forces(app):
    with app.app_context():
        changes = apply_load(read_vintage(), actor="test", now=TODAY)
        db.session.commit()
        assert len(changes.added) == 314
        assert count(Csp) == 314
        assert count(Council) == 339
        assert count(PoliceForceArea) == 43
        england = db.session.scalar(
            select(func.count()).select_from(Csp).where(Csp.nation == Nation.ENGLAND)
        )
        assert england == 293
        barnet = csp_by_code("E22000187")
        assert (barnet.name, barnet.pfa.name) == ("Barnet", "Metropolitan Police")
        assert [c.name for c in barnet.councils] == ["Barnet"]
        anglesey = csp_by_code("W14000001")
        assert (anglesey.name_cy, anglesey.nation) == ("Ynys Môn", Nation.WALES)
        assert anglesey.valid_from is None


def test_loading_the_same_files_again_changes_nothing(app):
    with app.app_context():
        apply_load(read_vintage(), actor="test", now=TODAY)
        db.session.commit()
        events = count(AuditEvent)
        again = apply_load(read_vintage(), actor="test", now=TODAY + timedelta(days=1))
        db.session.commit()
        assert again.empty
        assert count(AuditEvent) == events
        assert csp_by_code("E22000187").updated_at == TODAY


def test_a_later_vintage_merges_renames_adds_and_ends(app, tmp_path):
    first = write_vintage(
        tmp_path / "2019",
        "E22000901,Northtown,\nE22000902,Southtown,\nE22000903,Old Name,\nE22000904,Gone Away,\n",
        "E07000901,Northtown,E22000901,Northtown,E23000901,Shire Police\n"
        "E07000902,Southtown,E22000902,Southtown,E23000901,Shire Police\n"
        "E07000903,Middleton,E22000903,Old Name,E23000901,Shire Police\n"
        "E07000904,Farfield,E22000904,Gone Away,E23000901,Shire Police\n",
    )
    later = write_vintage(
        tmp_path / "2021",
        "E22000950,North and South,\nE22000903,New Name,\nE22000960,Brand New,\n",
        "E07000901,Northtown,E22000950,North and South,E23000901,Shire Police\n"
        "E07000902,Southtown,E22000950,North and South,E23000901,Shire Police\n"
        "E07000903,Middleton,E22000903,New Name,E23000901,Shire Police\n"
        "E07000905,Newfield,E22000960,Brand New,E23000901,Shire Police\n",
    )
    with app.app_context():
        apply_load(read_vintage(first), actor="test", now=TODAY)
        db.session.commit()
        plan = plan_load(read_vintage(later))
        assert csp_by_code("E22000950") is None
        assert plan.added == [("E22000950", "North and South"), ("E22000960", "Brand New")]
        assert plan.renamed == [("E22000903", "Old Name", "New Name")]
        assert plan.merged == [
            ("E22000901", "Northtown", "E22000950"),
            ("E22000902", "Southtown", "E22000950"),
        ]
        assert plan.ended == [("E22000904", "Gone Away")]

        later_day = TODAY + timedelta(days=700)
        apply_load(read_vintage(later), actor="test", now=later_day)
        db.session.commit()
        north = csp_by_code("E22000901")
        assert (north.status, north.successor_code) == (CspStatus.ENDED, "E22000950")
        assert north.valid_to == later_day.date()
        merged = csp_by_code("E22000950")
        assert [c.name for c in merged.councils] == ["Northtown", "Southtown"]
        assert merged.valid_from == later_day.date()
        gone = csp_by_code("E22000904")
        assert (gone.status, gone.successor_code) == (CspStatus.ENDED, None)
        assert csp_by_code("E22000903").name == "New Name"
        assert plan_load(read_vintage(later)).empty


@pytest.mark.parametrize(
    ("names", "lookup", "message"),
    [
        ("E22000901,North,\nE22000901,North,\n", "", "listed twice"),
        ("X22000901,North,\n", "", "is not a CSP code"),
        ("E22000901,,\n", "", "name is blank"),
        (
            "E22000901,North,\n",
            "E07000901,North,E22000999,Other,E23000901,Police\n",
            "which the names file does not list",
        ),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path, names, lookup, message):
    with pytest.raises(DirectoryFileError, match=message):
        read_vintage(write_vintage(tmp_path, names, lookup))


def test_two_names_files_are_refused(tmp_path):
    files = write_vintage(tmp_path, "E22000901,North,\n", "")
    with pytest.raises(DirectoryFileError, match="one council to CSP"):
        read_vintage([files[0], files[0]])
