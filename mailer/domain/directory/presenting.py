"""A partnership as the API, the JSON download and the CSV download show it."""

from __future__ import annotations

from typing import Any

from mailer.domain.directory.files import ATTRIBUTION
from mailer.models import Csp

CSV_COLUMNS = (
    "code",
    "name",
    "name_cy",
    "nation",
    "pfa_code",
    "pfa_name",
    "council_codes",
    "council_names",
    "email",
    "phone",
    "web",
    "last_confirmed",
    "status",
    "successor",
    "source",
)


def csp_json(csp: Csp) -> dict[str, Any]:
    """One partnership as a JSON object."""
    return {
        "code": csp.code,
        "name": csp.name,
        "name_cy": csp.name_cy or None,
        "nation": csp.nation.value,
        "pfa": {"code": csp.pfa.code, "name": csp.pfa.name} if csp.pfa else None,
        "councils": [{"code": c.code, "name": c.name} for c in csp.councils],
        "contact": {"email": csp.email or None, "phone": csp.phone or None, "web": csp.web or None},
        "last_confirmed": csp.last_confirmed.isoformat() if csp.last_confirmed else None,
        "status": csp.status.value,
        "successor": csp.successor_code,
    }


def csv_row(csp: Csp) -> list[str]:
    """One partnership as the cells of CSV_COLUMNS (not yet guarded against formulas)."""
    return [
        csp.code,
        csp.name,
        csp.name_cy,
        csp.nation.value,
        csp.pfa.code if csp.pfa else "",
        csp.pfa.name if csp.pfa else "",
        ";".join(c.code for c in csp.councils),
        ";".join(c.name for c in csp.councils),
        csp.email,
        csp.phone,
        csp.web,
        csp.last_confirmed.isoformat() if csp.last_confirmed else "",
        csp.status.value,
        csp.successor_code or "",
        ATTRIBUTION,
    ]
