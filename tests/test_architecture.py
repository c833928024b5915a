"""What the import contracts (import-linter, in `make lint`) cannot say: names taken from a
module that a layer may import otherwise."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "mailer"

FORBIDDEN_NAMES = {
    # Pages go through the domain for data; they never touch the session themselves.
    "web": ("mailer.extensions.db",),
    # The scheduler, the CLI and the tests call the same domain functions: no request state.
    "domain": ("flask.request", "flask.g", "flask.session", "flask.render_template"),
    "delivery": ("flask.request", "flask.session"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN_NAMES))
def test_layers_take_no_forbidden_names(layer):
    offences = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_NAMES[layer])
    ]
    assert offences == []


def test_every_module_of_a_layer_is_read_subpackages_too():
    assert PACKAGE / "web" / "staff" / "news.py" in set((PACKAGE / "web").rglob("*.py"))


def test_the_rule_catches_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from flask import request\nfrom mailer.extensions import db\n")
    assert {"flask.request", "mailer.extensions.db"} <= _imports(module)
