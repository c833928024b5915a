"""The check `make lint` runs on the Welsh catalogue (scripts/check_translations.py): it passes
on the real one, and fails, saying why, on a catalogue that lacks a translation, is out of
date, has a fuzzy entry or a missing plural form, or ships a stale .mo."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = '{{ _("Subscribe") }} {{ ngettext("%(num)d item", "%(num)d items", 2) }}\n'
WELSH = {"Subscribe": "Tanysgrifio", ("%(num)d item", "%(num)d items"): ("%(num)d eitem",) * 6}


@pytest.fixture(scope="module")
def check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_translations", ROOT / "scripts/check_translations.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _project(root: Path, welsh: dict, *, fuzzy: bool = False, compile_mo: bool = True) -> Path:
    """A checkout with one template and a Welsh catalogue holding `welsh`."""
    shutil.copy(ROOT / "babel.cfg", root / "babel.cfg")
    (root / "templates").mkdir()
    (root / "templates" / "page.html").write_text(TEMPLATE)
    folder = root / "translations" / "cy" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue = Catalog(locale="cy")  # Babel knows Welsh's six plural forms (CLDR)
    for msgid, string in welsh.items():
        catalogue.add(msgid, string, flags=("fuzzy",) if fuzzy else ())
    with (folder / "messages.po").open("wb") as file:
        write_po(file, catalogue)
    if compile_mo:
        with (folder / "messages.mo").open("wb") as file:
            write_mo(file, catalogue)
    return root


def test_the_real_catalogue_is_complete_and_compiled(check):
    assert check.problems(ROOT) == []


def test_a_complete_catalogue_passes(check, tmp_path):
    assert check.problems(_project(tmp_path, WELSH)) == []


def test_a_text_without_welsh_fails_with_a_clear_message(check, tmp_path, capsys):
    root = _project(tmp_path, {**WELSH, "Subscribe": ""})

    assert check.main(root) == 1
    err = capsys.readouterr().err
    assert "translations/cy: no Welsh: 'Subscribe'" in err
    assert "Run `make translations`" in err


def test_a_text_not_in_the_catalogue_fails(check, tmp_path):
    root = _project(tmp_path, WELSH)
    (root / "templates" / "new.html").write_text('{{ _("Unsubscribe") }}')

    assert check.problems(root) == ["not in the catalogue: 'Unsubscribe'"]


def test_an_entry_whose_text_left_the_sources_fails(check, tmp_path):
    root = _project(tmp_path, {**WELSH, "Gone": "Wedi mynd"})

    assert "no longer in the sources: 'Gone'" in check.problems(root)


def test_a_missing_plural_form_fails(check, tmp_path):
    short = ("%(num)d eitem",) * 5 + ("",)
    root = _project(tmp_path, {**WELSH, ("%(num)d item", "%(num)d items"): short})

    assert "has 5 of the 6 plural forms: '%(num)d item'" in check.problems(root)


def test_a_fuzzy_entry_fails(check, tmp_path):
    problems = check.problems(_project(tmp_path, WELSH, fuzzy=True))

    assert "fuzzy (check the Welsh, then remove the flag): 'Subscribe'" in problems


def test_a_missing_or_stale_compiled_catalogue_fails(check, tmp_path):
    root = _project(tmp_path, WELSH, compile_mo=False)
    assert check.problems(root) == ["messages.mo is missing"]

    stale = Catalog(locale="cy")
    stale.add("Subscribe", "Tanysgrifiwch")
    with (root / "translations/cy/LC_MESSAGES/messages.mo").open("wb") as file:
        write_mo(file, stale)
    assert check.problems(root) == ["messages.mo is not the compiled messages.po"]
