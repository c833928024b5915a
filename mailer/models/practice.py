"""Effective practice: case studies practitioners submit, their versions, attachments and the
messages readers send their contacts."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.extensions import Base
from mailer.models.columns import UTCDateTime
from mailer.models.columns import stored_enum
from mailer.models.directory import Csp
from mailer.models.states import CaseStudyRating
from mailer.models.states import CaseStudyState


class CaseStudy(Base):
    """A piece of local practice as its submitter describes it, from draft to published.

    The long answers (the problem, what was done, the evaluation, …) are in `answers`, keyed
    by section; the fields people filter on have columns of their own.
    """

    __tablename__ = "case_studies"
    __table_args__ = (Index("ix_case_studies_state_published_at", "state", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Given when it is first published, then fixed.
    slug: Mapped[str | None] = mapped_column(String(120), unique=True)
    state: Mapped[CaseStudyState] = mapped_column(stored_enum(CaseStudyState))
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # At most 400 words.
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    title_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    summary_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The submitting partnership, from the directory; its partner organisations as written.
    csp_id: Mapped[int | None] = mapped_column(ForeignKey("csps.id", ondelete="SET NULL"))
    partners: Mapped[str] = mapped_column(Text, default="", server_default="")
    # "england" or "wales" (Nation), and the area in the submitter's words.
    nation: Mapped[str | None] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(200), default="", server_default="")
    rating: Mapped[CaseStudyRating | None] = mapped_column(stored_enum(CaseStudyRating))
    evaluated: Mapped[bool] = mapped_column(default=False, server_default=false())
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    # {"problem": "...", "data_used": "...", ...}: see domain/practice_terms.py for the sections.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # A role to contact ("Community safety manager"), never a person's address on the page.
    contact_role: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_consent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The submitter confirmed it holds no personal or operationally sensitive data.
    declaration: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where the links to the draft and the replies to enquiries go.
    submitter_email: Mapped[str] = mapped_column(String(320))
    # Raised each time an emailed link is used, so that each link works once.
    links_used: Mapped[int] = mapped_column(default=0, server_default="0")
    # Staff's notes when they ask for changes, and the reason when they reject it.
    review_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    rejected_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Title, summary, answers and tags as one text, for the full-text search.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    csp: Mapped[Csp | None] = relationship()
    tags: Mapped[list[CaseStudyTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CaseStudyTag.code"
    )
    attachments: Mapped[list[CaseStudyAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="CaseStudyAttachment.id"
    )


class CaseStudyTag(Base):
    """A term a case study is filed under: a theme or a crime type (domain/practice_terms.py)."""

    __tablename__ = "case_study_tags"

    case_study_id: Mapped[int] = mapped_column(
        ForeignKey("case_studies.id", ondelete="CASCADE"), primary_key=True
    )
    # "theme" or "crime_type".
    vocabulary: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class CaseStudyVersion(Base):
    """What a case study said each time it was submitted: every version is kept."""

    __tablename__ = "case_study_versions"
    __table_args__ = (UniqueConstraint("case_study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_study_id: Mapped[int] = mapped_column(
        ForeignKey("case_studies.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    # Every field of the case study as it was: title, summary, answers, tags, ….
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseStudyAttachment(Base):
    """A file that goes with a case study (PDF, DOCX or ODT), stored outside the web root
    under `storage_key`."""

    __tablename__ = "case_study_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_study_id: Mapped[int] = mapped_column(
        ForeignKey("case_studies.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseStudyEnquiry(Base):
    """A reader's message to a case study's contact, relayed by email: the submitter's address
    is never shown; they answer the reader directly if they wish."""

    __tablename__ = "case_study_enquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_study_id: Mapped[int] = mapped_column(
        ForeignKey("case_studies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
