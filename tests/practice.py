"""Steps the case study tests share: asking for a link, opening it, filling in every section,
and small real files of each type."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import csrf_token
from tests.helpers import link
from tests.helpers import send_queued
from tests.smtp_sink import Received
from tests.smtp_sink import SinkHandler

SUBMITTER = "practitioner@council.example.gov.uk"
BARNET = "E22000187"

# Every section filled in and marked completed, as a browser would send it.
ANSWERS: dict[str, dict[str, Any]] = {
    "case-study": {
        "title": "Safer streets through street lighting",
        "summary": "New lighting on two estates cut burglary by a third in a year.",
    },
    "who": {"csp": BARNET, "partners": "Metropolitan Police, Barnet Homes"},
    "about": {
        "themes": ["neighbourhood-crime"],
        "crime_types": ["burglary", "vehicle-crime"],
        "nation": "england",
        "area": "Grahame Park estate",
    },
    "problem": {"problem": "Burglaries after dark.", "data_used": "Police recorded crime."},
    "response": {"what_was_done": "Brighter LED lights.", "why_it_works": "Natural surveillance."},
    "context": {"context": "Dense housing estates with poor lighting."},
    "implementation": {
        "timescale": "Six months.",
        "resources": "Two engineers.",
        "barriers": "Procurement.",
        "lessons": "Ask residents first.",
    },
    "cost": {"cost": "£120,000", "funding": "Safer Streets Fund"},
    "evaluation": {
        "evaluated": "yes",
        "evaluation_method": "Before and after comparison.",
        "evaluation_findings": "Burglary fell 33%.",
        "rating": "promising",
    },
    "dates": {
        "started-day": "",
        "started-month": "3",
        "started-year": "2024",
        "ended-day": "",
        "ended-month": "",
        "ended-year": "",
    },
    "contact": {"contact_role": "Community safety manager", "contact_consent": "yes"},
    "declaration": {"declaration": "yes"},
}


def ask_for_link(client: FlaskClient, email: str = SUBMITTER) -> Any:
    """Start a case study from the email page."""
    url = "/effective-practice/submit/email"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "email": email})


def emailed_link(app: Flask, smtpd: SinkHandler) -> tuple[Received, str]:
    """Send what is queued and return the next email with the path of its draft link."""
    send_queued(app)
    received = smtpd.get()
    return received, link(received.text, "/effective-practice/submit/link/")


def open_link(client: FlaskClient, path: str) -> Any:
    """Press "Continue" on the page of an emailed link."""
    return client.post(path, data={"csrf_token": csrf_token(client, path)})


def start_draft(app: Flask, client: FlaskClient, smtpd: SinkHandler) -> int:
    """Ask for a link, open it, and return the id of the draft this browser may change."""
    assert ask_for_link(client).status_code == 302
    _, path = emailed_link(app, smtpd)
    opened = open_link(client, path)
    assert opened.status_code == 302
    return int(opened.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def save_section(
    client: FlaskClient, draft: int, key: str, data: dict[str, Any], completed: str = "yes"
) -> Any:
    url = f"/effective-practice/submit/{draft}/{key}"
    form = {"csrf_token": csrf_token(client, url), **data, "completed": completed}
    return client.post(url, data=form)


def fill_everything(client: FlaskClient, draft: int) -> None:
    for key, data in ANSWERS.items():
        response = save_section(client, draft, key, data)
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:3000])


def pdf_bytes(text: str = "Evaluation report") -> bytes:
    """A small, real, one-page PDF."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def zip_bytes(entries: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            kind = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return out.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes(
        [
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
        ]
    )


def odt_bytes() -> bytes:
    return zip_bytes(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
            ("META-INF/manifest.xml", b"<manifest:manifest/>"),
        ],
        stored_first=True,
    )


def multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    """A form with one file as request bytes and its content type, built here so that the
    test client keeps a large body in memory rather than in a temporary file."""
    boundary = "practiceboundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = b"".join(parts) + head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client: FlaskClient, url: str, name: str, data: bytes) -> Any:
    """Send one file on the attachments page."""
    body, content_type = multipart({"csrf_token": csrf_token(client, url)}, name, data)
    return client.post(url, data=body, content_type=content_type)
