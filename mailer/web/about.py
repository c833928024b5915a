"""The pages a public service must have, and what community safety partnerships are: the
accessibility statement, the cookies page and "About community safety partnerships"."""

from __future__ import annotations

from datetime import date

from flask import Blueprint
from flask import current_app
from flask import render_template
from flask_babel import format_date

from mailer.domain.directory.counts import current_counts

bp = Blueprint("about", __name__)

# When the accessibility statement was prepared and last reviewed, and when the service was
# last tested: set here when the statement is reviewed, never the date of the request.
STATEMENT_PREPARED = date(2026, 12, 6)
STATEMENT_REVIEWED = date(2026, 12, 6)
SERVICE_TESTED = date(2026, 12, 6)
# The number of partnerships the Home Office's older page about CSPs gives: a quotation of
# that page, not a count of ours (ours is counted from the directory on each request).
HOME_OFFICE_OLDER_COUNT = 332


@bp.get("/accessibility")
def accessibility() -> str:
    """The accessibility statement, after GOV.UK's model statement."""
    return render_template(
        "about/accessibility.html",
        prepared=_day(STATEMENT_PREPARED),
        reviewed=_day(STATEMENT_REVIEWED),
        tested=_day(SERVICE_TESTED),
    )


@bp.get("/cookies")
def cookies() -> str:
    """The cookies the service sets: essential ones only."""
    hours = int(current_app.permanent_session_lifetime.total_seconds()) // 3600
    return render_template(
        "about/cookies.html",
        session_cookie=current_app.config["SESSION_COOKIE_NAME"],
        staff_hours=hours,
    )


@bp.get("/about-csps")
def about_csps() -> str:
    """What community safety partnerships are, with the counts of the directory as it is."""
    return render_template(
        "about/csps.html", counts=current_counts(), older_count=HOME_OFFICE_OLDER_COUNT
    )


def _day(day: date) -> str:
    """ "6 December 2026", with the month's name in the page's language."""
    return str(format_date(day, "d MMMM y"))
