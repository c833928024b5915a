"""The layers import only what ARCHITECTURE.md allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "mailer"

FORBIDDEN = {
    # Pages may render an email for a preview, but never queue or send one.
    "web": (
        "sqlalchemy",
        "smtplib",
        "mailer.delivery.smtp",
        "mailer.delivery.queue",
        "mailer.delivery.worker",
        "mailer.extensions.db",
    ),
    "domain": (
        "flask.request",
        "flask.g",
        "flask.session",
        "flask.render_template",
        "mailer.web",
        "mailer.delivery",
        "smtplib",
    ),
    "delivery": ("mailer.web", "mailer.domain", "flask.request", "flask.session"),
    "models": ("flask", "mailer.domain", "mailer.delivery", "mailer.web"),
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


def _modules(layer: str) -> list[Path]:
    folder = PACKAGE / layer
    return sorted(folder.glob("*.py")) if folder.is_dir() else [PACKAGE / f"{layer}.py"]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_what_they_may(layer):
    offences = [
        f"{path.name} imports {name}"
        for path in _modules(layer)
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offences == []


def test_the_rule_catches_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from flask import request\nimport mailer.delivery.smtp\n")
    assert {"flask.request", "mailer.delivery.smtp"} <= _imports(module)
