"""Spreadsheet-safe CSV cells: a cell that a spreadsheet would run as a formula is written
with a leading apostrophe (as OWASP advises against CSV injection), and read back without it."""

from __future__ import annotations

# First characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(cell: str) -> str:
    """`cell` with a leading ' when a spreadsheet would otherwise run it as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def restore_formula(cell: str) -> str:
    """A cell as it was before `neutralise_formula`, so that an export imports back as it was."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell
