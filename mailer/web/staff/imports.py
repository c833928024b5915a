"""The admins' subscriber import: upload a CSV list, read the dry-run report, then import it
or discard it (once)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from mailer import clock
from mailer.database import read_only
from mailer.database import transaction
from mailer.domain.imports import check_import
from mailer.domain.imports import uploads
from mailer.domain.imports.files import ImportFileError
from mailer.domain.topics import list_topics
from mailer.extensions import csrf
from mailer.models import SubscriberImport
from mailer.web.staff.auth import admin_only
from mailer.web.staff.auth import current_actor

bp = Blueprint("imports", __name__)

# Rejected rows listed on the report page; the count of the rest is given.
SHOWN_REJECTIONS = 500
# Room in the request for the form's other fields and the multipart framing, in bytes.
FORM_OVERHEAD = 64 * 1024
# Werkzeug counts each 64 KB read of a multipart body against the in-memory field limit,
# so a file upload needs more than the site-wide 64 KB; the fields themselves stay small.
FORM_MEMORY = 1024 * 1024


@bp.get("/subscribers/import")
@admin_only
def import_form() -> str:
    """The upload form, with the columns a list must have and the rules for consent."""
    return render_template("staff/import_upload.html", error=None, topics=list_topics())


@bp.post("/subscribers/import")
@admin_only
def upload_import() -> Any:
    """Check an uploaded list (a dry run), keep it and show its report; nothing is imported.

    CSRF is checked here, once the request may be large, rather than by the app-wide hook,
    which reads the form under the site-wide size limit before any view runs.
    """
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + FORM_OVERHEAD
    request.max_form_memory_size = FORM_MEMORY
    try:
        csrf.protect()
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _upload_page(f"The file must be smaller than {_megabytes()} MB", 413)
    if upload is None or not upload.filename:
        return _upload_page("Choose a CSV file to upload", 400)
    content, now = upload.read(), clock.now()
    try:
        with read_only():
            report = check_import(content, now=now)
    except ImportFileError as error:
        return _upload_page(error.message, 400)
    with transaction():
        stored = uploads.store_upload(
            content, upload.filename, report, actor=current_actor(), now=now
        )
    return redirect(url_for("staff.imports.import_report", import_id=stored.id))


csrf.exempt(upload_import)


@bp.get("/subscribers/imports/<int:import_id>")
@admin_only
def import_report(import_id: int) -> tuple[str, int]:
    """The dry-run report of an upload, checked again now, or what became of it."""
    upload, now = _upload_or_404(import_id), clock.now()
    report, error = None, None
    if uploads.is_open(upload, now=now):
        try:
            with read_only():
                report = check_import(upload.content, now=now)
        except ImportFileError as problem:
            error = problem.message
    page = render_template(
        "staff/import_report.html",
        upload=upload,
        state=uploads.state(upload, now=now),
        stopped=uploads.stopped_imports(upload),
        report=report,
        error=error,
        shown=SHOWN_REJECTIONS,
    )
    return page, 400 if error else 200


@bp.post("/subscribers/imports/<int:import_id>/apply")
@admin_only
def apply_import(import_id: int) -> Response:
    """Import the accepted rows of an upload, checked again now; only once. The rows are
    written a chunk at a time: should the import stop part way, those written stay and the
    upload stays open, so that importing it again adds the rest."""
    upload = _upload_or_404(import_id)
    try:
        report = uploads.apply_upload(upload, actor=current_actor(), now=clock.now())
    except ImportFileError as error:
        abort(409, error.message)
    flash(
        f"Imported {report.accepted:,} subscribers: {report.active:,} active, "
        f"{report.pending:,} sent a confirmation email; {report.rejected:,} rows rejected"
    )
    return redirect(url_for("staff.imports.import_report", import_id=import_id))


@bp.post("/subscribers/imports/<int:import_id>/discard")
@admin_only
def discard_import(import_id: int) -> Response:
    """Drop an upload without importing anything; the file is not kept."""
    with transaction():
        upload = _upload_or_404(import_id, lock=True)
        began = uploads.began(upload)
        uploads.discard_upload(upload, actor=current_actor(), now=clock.now())
    if began:
        flash(
            "Discarded the list: nothing more is imported from it and the file is not kept; "
            "the subscribers added by an import of it that stopped part way stay"
        )
    else:
        flash("Discarded the list: nothing was imported and the file is not kept")
    return redirect(url_for("staff.imports.import_form"))


def _upload_page(error: str, status: int) -> tuple[str, int]:
    page = render_template("staff/import_upload.html", error=error, topics=list_topics())
    return page, status


def _megabytes() -> str:
    return f"{current_app.config['IMPORT_MAX_BYTES'] / 1024 / 1024:g}"


def _upload_or_404(import_id: int, *, lock: bool = False) -> SubscriberImport:
    upload = uploads.upload_by_id(import_id, lock=lock)
    if upload is None:
        abort(404)
    return upload
