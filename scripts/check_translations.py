"""Fail when the Welsh catalogue is not ready to ship.

It fails when the catalogue is out of date with the sources (a text in mailer/, config.py or
templates/ has no entry, or an entry's text is no longer in the sources), when an entry has no
Welsh (or lacks one of Welsh's six plural forms), when an entry is fuzzy, or when the committed
messages.mo is not the compiled messages.po. `make translations` puts the first right; a
person writes the Welsh. See translations/README.md.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import chdir
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.catalog import Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
# Keep in step with EXTRACT in the Makefile.
KEYWORDS = ("-k", "lazy_gettext", "-k", "_l")
LANGUAGE = "cy"


def extract(root: Path) -> Catalog:
    """The texts the sources under `root` ask to translate, as `make translations` finds them."""
    with tempfile.TemporaryDirectory() as folder, chdir(root):
        pot = Path(folder) / "messages.pot"
        # babel.cfg's patterns (mailer/**.py, templates/**.html…) name paths from the root.
        CommandLineInterface().run(
            ["pybabel", "-q", "extract", "-F", "babel.cfg", *KEYWORDS, "-o", str(pot), "."]
        )
        with pot.open("rb") as file:
            return read_po(file)


def _key(message: Message) -> str:
    """One text's identity: its msgid (the singular of a plural), with its context."""
    text = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return f"{message.context or ''}\x04{text}"


def _shown(message: Message) -> str:
    text = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return repr(text[:70] + ("…" if len(text) > 70 else ""))


def out_of_date(sources: Catalog, catalogue: Catalog) -> list[str]:
    """Texts in the sources with no entry, and entries whose text has left the sources."""
    wanted = {_key(m): m for m in sources if m.id}
    held = {_key(m): m for m in catalogue if m.id}
    return [f"not in the catalogue: {_shown(m)}" for k, m in wanted.items() if k not in held] + [
        f"no longer in the sources: {_shown(m)}" for k, m in held.items() if k not in wanted
    ]


def untranslated(catalogue: Catalog) -> list[str]:
    """Entries that are fuzzy, have no Welsh, or lack a plural form."""
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy (check the Welsh, then remove the flag): {_shown(message)}")
        elif message.pluralizable:
            forms = [form for form in message.string if form]
            if len(forms) != catalogue.num_plurals:
                problems.append(
                    f"has {len(forms)} of the {catalogue.num_plurals} plural forms: "
                    f"{_shown(message)}"
                )
        elif not message.string:
            problems.append(f"no Welsh: {_shown(message)}")
    return problems


def stale_mo(catalogue: Catalog, mo_path: Path) -> list[str]:
    """Whether the compiled catalogue says what the .po says."""
    if not mo_path.exists():
        return [f"{mo_path.name} is missing"]
    with mo_path.open("rb") as file:
        compiled = read_mo(file)
    translated = {
        _key(m): m.string for m in catalogue if m.id and not m.fuzzy and any(m.string or "")
    }
    shipped = {_key(m): m.string for m in compiled if m.id}
    if {k: tuple(v) if isinstance(v, list) else v for k, v in translated.items()} != {
        k: tuple(v) if isinstance(v, list) else v for k, v in shipped.items()
    }:
        return [f"{mo_path.name} is not the compiled {mo_path.with_suffix('.po').name}"]
    return []


def problems(root: Path) -> list[str]:
    """Everything wrong with the Welsh catalogue under `root`."""
    folder = root / "translations" / LANGUAGE / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as file:
        catalogue = read_po(file, locale=LANGUAGE)
    return (
        out_of_date(extract(root), catalogue)
        + untranslated(catalogue)
        + stale_mo(catalogue, folder / "messages.mo")
    )


def main(root: Path = ROOT) -> int:
    found = problems(root)
    for problem in found:
        print(f"translations/{LANGUAGE}: {problem}", file=sys.stderr)
    if found:
        print(
            f"The Welsh catalogue has {len(found)} problem(s). Run `make translations`, write "
            "the missing Welsh in translations/cy/LC_MESSAGES/messages.po, then run it again "
            "to compile (translations/README.md).",
            file=sys.stderr,
        )
        return 1
    print("The Welsh catalogue is complete and compiled.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
