"""Files the site hands out."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from mailer import clock


def json_attachment(document: dict[str, Any], name: str) -> Response:
    """A JSON document as a download named `<name>-<today>.json`."""
    body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    response = Response(body, mimetype="application/json")
    day = clock.now().date().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{day}.json"'
    return response
