"""`mailer load-csps`, run as an operator would: the shipped files, again, a dry run of a later
vintage, and bad files."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from mailer.extensions import db
from mailer.models import Csp
from mailer.models import CspStatus
from tests.domain.test_directory_loading import write_vintage


def csps(app) -> dict[str, tuple[str, CspStatus, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(Csp)).all()
        return {csp.code: (csp.name, csp.status, csp.successor_code) for csp in rows}


def test_the_shipped_files_load_once_and_then_there_are_no_changes(app, runner):
    first = runner.invoke(args=["load-csps"])
    assert first.exit_code == 0, first.output
    assert "314 added, 0 renamed, 0 merged, 0 ended" in first.output
    assert "Loaded: the directory now matches these files." in first.output
    second = runner.invoke(args=["load-csps"])
    assert (second.exit_code, second.output) == (
        0,
        "No changes: the directory already matches these files.\n",
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Csp)) == 314


def test_a_merge_is_reported_by_the_dry_run_and_then_applied(app, runner, tmp_path):
    first = write_vintage(
        tmp_path / "a",
        "E22000901,Northtown,\nE22000902,Southtown,\nE22000903,Old Name,\n",
        "E07000901,Northtown,E22000901,Northtown,E23000901,Shire Police\n"
        "E07000902,Southtown,E22000902,Southtown,E23000901,Shire Police\n"
        "E07000903,Middleton,E22000903,Old Name,E23000901,Shire Police\n",
    )
    later = write_vintage(
        tmp_path / "b",
        "E22000950,North and South,\nE22000903,New Name,\nW14000960,Newydd,Newydd\n",
        "E07000901,Northtown,E22000950,North and South,E23000901,Shire Police\n"
        "E07000902,Southtown,E22000950,North and South,E23000901,Shire Police\n"
        "E07000903,Middleton,E22000903,New Name,E23000901,Shire Police\n"
        "W06000960,Newydd,W14000960,Newydd,W15000001,Heddlu\n",
    )
    assert runner.invoke(args=["load-csps", *map(str, first)]).exit_code == 0
    dry = runner.invoke(args=["load-csps", "--dry-run", *map(str, later)])
    assert dry.exit_code == 0
    assert "Merged: E22000901 Northtown -> E22000950" in dry.output
    assert "Merged: E22000902 Southtown -> E22000950" in dry.output
    assert "Renamed: E22000903 Old Name -> New Name" in dry.output
    assert "Added: W14000960 Newydd" in dry.output
    assert "Dry run: nothing was changed." in dry.output
    assert csps(app)["E22000901"] == ("Northtown", CspStatus.ACTIVE, None)
    assert "E22000950" not in csps(app)

    applied = runner.invoke(args=["load-csps", *map(str, later)])
    assert applied.exit_code == 0
    assert "2 added, 1 renamed, 2 merged, 0 ended" in applied.output
    after = csps(app)
    assert after["E22000901"] == ("Northtown", CspStatus.ENDED, "E22000950")
    assert after["E22000903"] == ("New Name", CspStatus.ACTIVE, None)
    assert after["W14000960"] == ("Newydd", CspStatus.ACTIVE, None)


def test_bad_files_are_a_clear_error_and_change_nothing(app, runner, tmp_path):
    names, lookup = write_vintage(tmp_path, "E22000901,North,\n", "not,a,lookup\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00bad")
    cases = [
        ([str(names)], "Give one CSP names and codes file"),
        ([str(tmp_path / "missing.csv"), str(lookup)], "No such file"),
        ([str(tmp_path / "binary.csv"), str(lookup)], "not UTF-8 text"),
        ([str(tmp_path)], "is a directory"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["load-csps", *args])
        assert result.exit_code in (1, 2), result.output
        assert message.lower() in result.output.lower()
        assert "Traceback" not in result.output
    assert csps(app) == {}
