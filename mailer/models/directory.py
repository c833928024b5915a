"""The CSP directory: partnerships, the councils they cover, police force areas, and the
corrections people suggest."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import Column
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.extensions import Base
from mailer.models.columns import UTCDateTime
from mailer.models.columns import stored_enum
from mailer.models.states import CspStatus
from mailer.models.states import Nation
from mailer.models.states import SuggestionStatus

csp_councils = Table(
    "csp_councils",
    Base.metadata,
    Column("csp_id", ForeignKey("csps.id", ondelete="CASCADE"), primary_key=True),
    Column("council_id", ForeignKey("councils.id", ondelete="CASCADE"), primary_key=True),
)

# The CSP areas a subscriber said they work in (optional).
subscriber_areas = Table(
    "subscriber_areas",
    Base.metadata,
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("csp_id", ForeignKey("csps.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class PoliceForceArea(Base):
    """A police force area (ONS code E23… or W15…)."""

    __tablename__ = "police_force_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Council(Base):
    """A local authority district (ONS code E06…, E07…, E08…, E09…, W06…)."""

    __tablename__ = "councils"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Csp(Base):
    """A Community Safety Partnership: its ONS code and names, what it covers, and how to
    reach it."""

    __tablename__ = "csps"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    # The Welsh name of a partnership in Wales ("" in England).
    name_cy: Mapped[str] = mapped_column(String(120), default="")
    nation: Mapped[Nation] = mapped_column(stored_enum(Nation))
    pfa_id: Mapped[int | None] = mapped_column(
        ForeignKey("police_force_areas.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[CspStatus] = mapped_column(stored_enum(CspStatus))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # The code of the partnership that took over, when this one merged into it.
    successor_code: Mapped[str | None] = mapped_column(String(9))
    # A role mailbox (never a named person's address), a phone number and a web page.
    email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    web: Mapped[str] = mapped_column(String(300), default="")
    # The day staff or the partnership last said the contact details are right.
    last_confirmed: Mapped[date | None] = mapped_column(Date)
    # The day the partnership was last sent a link to confirm them.
    last_reminded: Mapped[date | None] = mapped_column(Date)
    # Links sent so far: a link names the count it was sent at and works only while that is
    # still the count, so each works once and a newer one replaces it.
    links_used: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    pfa: Mapped[PoliceForceArea | None] = relationship(lazy="joined")
    councils: Mapped[list[Council]] = relationship(
        secondary=csp_councils, order_by="Council.name", lazy="selectin"
    )


class CspSuggestion(Base):
    """A correction someone suggested for a partnership's entry; nothing of it is published
    until staff make the change themselves."""

    __tablename__ = "csp_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csps.id", ondelete="CASCADE"), index=True)
    problem: Mapped[str] = mapped_column(String(1000))
    correction: Mapped[str] = mapped_column(String(1000))
    # The suggester's address, if they gave one for questions ("" if not).
    email: Mapped[str] = mapped_column(String(320), default="")
    status: Mapped[SuggestionStatus] = mapped_column(stored_enum(SuggestionStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(400))

    csp: Mapped[Csp] = relationship()
