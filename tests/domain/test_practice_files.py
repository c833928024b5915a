"""The type of an attachment is known from its content, never its name; unsafe zips are
refused; names are cleaned."""

from __future__ import annotations

import io
import zipfile

import pytest

from mailer.domain.practice_files import DOCX
from mailer.domain.practice_files import ODT
from mailer.domain.practice_files import PDF
from mailer.domain.practice_files import safe_filename
from mailer.domain.practice_files import sniff
from mailer.errors import InvalidInput
from tests.practice import docx_bytes
from tests.practice import odt_bytes
from tests.practice import pdf_bytes
from tests.practice import zip_bytes


@pytest.mark.parametrize(
    ("data", "kind"), [(pdf_bytes(), PDF), (docx_bytes(), DOCX), (odt_bytes(), ODT)]
)
def test_documents_are_known_by_their_content(data, kind):
    assert sniff(data) == kind


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "must be a PDF"),
        (b"", "must be a PDF"),
        (b"PK\x03\x04 not really a zip", "must be a PDF"),
        (zip_bytes([("readme.txt", b"hello")]), "must be a PDF"),
        (
            zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")]),
            "must be a PDF",
        ),
        (
            zip_bytes(
                [
                    ("[Content_Types].xml", b"<Types/>"),
                    ("word/document.xml", b"<w:document/>"),
                    ("../../etc/cron.d/evil", b"* * * * * root sh"),
                ]
            ),
            "unsafe paths",
        ),
        (
            zip_bytes(
                [
                    ("[Content_Types].xml", b"<Types/>"),
                    ("word/document.xml", b"<w:document/>"),
                    ("/etc/passwd", b"x"),
                ]
            ),
            "unsafe paths",
        ),
        (_bomb(), "compressed too much"),
    ],
)
def test_anything_else_is_refused(data, message):
    with pytest.raises(InvalidInput) as refused:
        sniff(data)
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("name", "kind", "safe"),
    [
        ("report.pdf", PDF, "report.pdf"),
        ("../../secret/report.PDF", PDF, "report.PDF"),
        ("C:\\Users\\me\\report", DOCX, "report.docx"),
        ('a"b;c\r\nd.odt', ODT, "a_b;c_d.odt"),
        ("...", PDF, "attachment.pdf"),
        ("report.pdf", DOCX, "report.pdf.docx"),
        ("x" * 300 + ".pdf", PDF, "x" * 150 + ".pdf"),
    ],
)
def test_names_are_cleaned_and_carry_the_real_type(name, kind, safe):
    assert safe_filename(name, kind) == safe
