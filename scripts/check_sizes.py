"""Fail when a module passes 400 lines or a function passes 40, not counting data literals."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40
LITERALS = (ast.Dict, ast.List, ast.Set, ast.Tuple)


def _literal_lines(function: ast.AST) -> set[int]:
    """The lines inside multi-line dict, list, set and tuple displays: data, not logic."""
    lines: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, LITERALS) and node.end_lineno and node.end_lineno > node.lineno:
            lines.update(range(node.lineno + 1, node.end_lineno))
    return lines


def _function_length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from `def` to the end, less data literals (decorators, such as click's options,
    are declarations and do not count)."""
    end = node.end_lineno or node.lineno
    return end - node.lineno + 1 - len(_literal_lines(node))


def problems(path: Path) -> list[str]:
    """Say what in the file at `path` is over a limit."""
    source = path.read_text(encoding="utf-8")
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{path}: {lines} lines (split past {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = _function_length(node)
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{path}:{node.lineno}: {node.name} has {length} lines"
                    f" (split past {MAX_FUNCTION_LINES})"
                )
    return found


def main(paths: list[str]) -> int:
    files = [
        file
        for name in paths
        for file in (sorted(Path(name).rglob("*.py")) if Path(name).is_dir() else [Path(name)])
    ]
    found = [problem for file in files for problem in problems(file)]
    for problem in found:
        print(problem)
    print(f"Sizes: {len(files)} files checked, {len(found)} over the limits.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["mailer", "config.py", "wsgi.py", "scheduler.py"]))
