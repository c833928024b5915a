"""Attachments: adding and removing files on a draft, and downloading them (anyone, once the
case study is published; staff, always). Files are served as downloads, never shown inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Response
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from mailer import clock
from mailer.database import transaction
from mailer.domain import practice_files as files
from mailer.errors import InvalidInput
from mailer.models import CaseStudyAttachment
from mailer.web.practice import bp
from mailer.web.practice.submit import _draft

UPLOADS = frozenset({"practice.attachments"})


def files_root() -> Path:
    """Where attachments are kept (the CASE_STUDY_FILES_DIR setting), outside the web root."""
    return Path(current_app.config["CASE_STUDY_FILES_DIR"])


def limits() -> files.Limits:
    config = current_app.config
    return files.Limits(
        int(config["CASE_STUDY_MAX_FILE_BYTES"]), int(config["CASE_STUDY_MAX_FILES"])
    )


def allow_uploads() -> None:
    """The upload page takes one file up to the largest allowed, and a little more for the
    form; every other page keeps the site-wide limit. An app-wide hook, registered before CSRF
    protection, which reads the form first."""
    if request.endpoint in UPLOADS:
        size = int(current_app.config["CASE_STUDY_MAX_FILE_BYTES"]) + 256 * 1024
        request.max_content_length = size
        request.max_form_memory_size = 64 * 1024


@bp.route("/submit/<int:case_study_id>/attachments", methods=["GET", "POST"])
def attachments(case_study_id: int) -> Any:
    """The files of a draft, and a form to add one."""
    case_study = _draft(case_study_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        if upload:
            upload.close()
        try:
            with transaction():
                files.add_attachment(
                    _draft(case_study_id, lock=True),
                    upload.filename or "" if upload else "",
                    data,
                    root=files_root(),
                    limits=limits(),
                    now=clock.now(),
                )
        except InvalidInput as error:
            errors = {error.field: error.message}
        else:
            return redirect(url_for(".attachments", case_study_id=case_study_id))
        case_study = _draft(case_study_id)
    page = render_template(
        "practice/attachments.html", case_study=case_study, errors=errors, limits=limits()
    )
    return (page, 400) if errors else page


@bp.post("/submit/<int:case_study_id>/attachments/<int:attachment_id>/remove")
def remove_attachment(case_study_id: int, attachment_id: int) -> Any:
    with transaction():
        case_study = _draft(case_study_id, lock=True)
        if not files.remove_attachment(
            case_study, attachment_id, root=files_root(), now=clock.now()
        ):
            abort(404)
    return redirect(url_for(".attachments", case_study_id=case_study_id))


@bp.get("/<slug>/attachments/<int:attachment_id>")
def attachment(slug: str, attachment_id: int) -> Response:
    """A published case study's file, as a download."""
    found = files.published_attachment(slug, attachment_id)
    if found is None:
        abort(404)
    return send_attachment(found)


def send_attachment(found: CaseStudyAttachment) -> Response:
    """The file's bytes with its type, as an attachment under its (cleaned) name."""
    path = files.stored_path(found, files_root())
    if not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype=found.content_type)
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266, RFC 8187)."""
    fallback = "".join(c for c in filename if c.isascii() and c.isprintable() and c not in '"\\;')
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'attachment'}\"; filename*=UTF-8''{encoded}"
