"""A number in a URL larger than any id is simply not found, on every page that takes an id."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from mailer import clock
from mailer.database import transaction
from mailer.domain import staff
from mailer.models import StaffRole
from tests.helpers import ADMIN
from tests.helpers import csrf_token
from tests.helpers import logged_in

# Past the 32-bit ids of PostgreSQL, past SQLite's and PostgreSQL's 64-bit integers, and far past.
HUGE = (2**31, 9_999_999_999, 2**63, 2**64, 10**30)


def _id_routes(app):
    """Each (rule, method) whose URL holds a whole number, HEAD and OPTIONS aside."""
    for rule in app.url_map.iter_rules():
        if any(isinstance(converter, IntegerConverter) for converter in rule._converters.values()):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


@pytest.mark.parametrize("huge", HUGE)
def test_every_id_past_the_largest_is_a_404_not_a_500(app, client, huge):
    logged_in(app, client, ADMIN, StaffRole.ADMIN, now=clock.now())
    with app.app_context(), transaction():
        key = staff.create_api_key("cms", created_by=None, actor="test", now=clock.now())
    bearer = {"Authorization": f"Bearer {key.plaintext}"}
    form = {"csrf_token": csrf_token(client, "/staff/users")}
    answers = {}
    routes = list(_id_routes(app))
    assert len(routes) >= 20
    for rule, method in routes:
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", str(huge))
        api = url.startswith("/api/")
        response = client.open(
            url,
            method=method,
            headers=bearer if api else {},
            **({"json": {}} if api else {"data": form}),
        )
        answers[f"{method} {url}"] = response.status_code
    assert {route: status for route, status in answers.items() if status != 404} == {}
