"""The staff pages of send runs: the list, one run's progress, and pause, resume, cancel."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import transaction
from mailer.domain import audit
from mailer.domain import deliverability
from mailer.domain import run_counts
from mailer.domain import run_stats
from mailer.domain import send_runs
from mailer.domain.audit_words import run_name
from mailer.models import RunState
from mailer.models import SendRun
from mailer.web.staff.auth import current_actor

bp = Blueprint("runs", __name__)

# GOV.UK tag colours by run state; a sending run has the default (blue) tag.
STATE_TAGS = {
    RunState.PAUSED: "govuk-tag--yellow",
    RunState.CANCELLED: "govuk-tag--grey",
    RunState.DONE: "govuk-tag--green",
}


@bp.get("/runs")
def runs() -> str:
    """Recent send runs with their counts."""
    recent = send_runs.recent_runs(limit=50)
    counts = run_counts.status_counts([run.id for run in recent])
    return render_template("staff/runs.html", runs=recent, counts=counts)


@bp.get("/runs/<int:run_id>")
def run(run_id: int) -> str:
    """One run: counts, progress, rate, time left and a chart of messages sent."""
    found = _run_or_404(run_id)
    now = clock.now()
    live = found.state is RunState.SENDING
    series = run_stats.sent_over_time(found.id, now=now, live=live)
    return render_template(
        "staff/run.html",
        run=found,
        progress=run_stats.run_progress(found.id, now=now),
        outcomes=deliverability.run_outcomes(found),
        series=series,
        labels=[_clock_time(at, series.width) for at, _ in series.points],
        unit=_unit(series.width),
        actions=[name for name, (before, _) in send_runs.MOVES.items() if found.state in before],
        history=audit.recent(target=found, limit=20),
        live=live,
        # Only on request: a page that reloads by itself unasked fails WCAG 2.2.1.
        refresh=live and request.args.get("refresh") == "on",
    )


@bp.post("/runs/<int:run_id>/pause", defaults={"action": "pause"})
@bp.post("/runs/<int:run_id>/resume", defaults={"action": "resume"})
@bp.post("/runs/<int:run_id>/cancel", defaults={"action": "cancel"})
def change_run(run_id: int, action: str) -> Response:
    """Pause, resume or cancel a run; a run in the wrong state gets a 409 page."""
    with transaction():
        found = _run_or_404(run_id, lock=True)
        send_runs.change_state(found, action, actor=current_actor(), now=clock.now())
    flash(f"Run {run_id} {send_runs.DONE[action]}")
    return redirect(url_for("staff.runs.run", run_id=run_id))


def _run_or_404(run_id: int, *, lock: bool = False) -> SendRun:
    found = send_runs.run_by_id(run_id, lock=lock)
    if found is None:
        abort(404)
    return found


@bp.context_processor
def _runs_context() -> dict[str, Any]:
    return {"run_title": run_title, "about": about, "state_tags": STATE_TAGS}


def run_title(run: SendRun) -> str:
    """'Daily digest of Wednesday 25 November 2026', 'Alert: <title>' or 'Bulletin: <subject>'."""
    return run_name(run, zone=current_app.config["TIMEZONE"])


def about(left: timedelta) -> str:
    """A duration in rough words: 'less than a minute', 'about 3 minutes', 'about 2 hours'."""
    minutes = round(left.total_seconds() / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 90:
        amount, unit = minutes, "minute"
    elif minutes < 36 * 60:
        amount, unit = round(minutes / 60), "hour"
    else:
        amount, unit = round(minutes / 60 / 24), "day"
    return f"about {amount} {unit}{'s' if amount != 1 else ''}"


def _unit(width: timedelta) -> str:
    """A bucket's width in words: '10 seconds', 'minute', '15 minutes', 'hour', 'day'."""
    seconds = int(width.total_seconds())
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            amount = seconds // size
            return name if amount == 1 else f"{amount} {name}s"
    return f"{seconds} seconds"


def _clock_time(at: datetime, width: timedelta) -> str:
    """'7:02am'; with seconds ('7:02:10am') for buckets under a minute, with the day
    ('26 Nov 9:00am') for buckets of an hour or more."""
    local = at.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    seconds = f":{local:%S}" if width < timedelta(minutes=1) else ""
    day = f"{local.day} {local:%b} " if width >= timedelta(hours=1) else ""
    return f"{day}{local.hour % 12 or 12}:{local:%M}{seconds}{'am' if local.hour < 12 else 'pm'}"
