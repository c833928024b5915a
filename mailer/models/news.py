"""News items and the topics they are filed under."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.extensions import Base
from mailer.models.columns import UTCDateTime
from mailer.models.columns import stored_enum
from mailer.models.states import BulletinState
from mailer.models.states import NewsState
from mailer.models.subscribers import Topic

news_item_topics = Table(
    "news_item_topics",
    Base.metadata,
    Column("news_item_id", ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class NewsItem(Base):
    """A piece of news: what the site shows and the digests carry."""

    __tablename__ = "news_items"
    __table_args__ = (Index("ix_news_items_state_published_at", "state", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(600))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    # The Markdown rendered to HTML and sanitised with nh3; safe to show as it is.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The Welsh (Cymraeg) texts; "" where there is none, and the Welsh pages show the English.
    title_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    summary_cy: Mapped[str] = mapped_column(String(600), default="", server_default="")
    body_markdown_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    body_html_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    state: Mapped[NewsState] = mapped_column(stored_enum(NewsState))
    # When a scheduled item is to be published.
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why it was withdrawn, shown on its page, which stays.
    withdrawn_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Urgent news goes at once to every subscriber of its topics, digest readers included,
    # and is left out of the digests; the reason is recorded.
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())
    urgent_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Where it applies ({"nations": [...], "pfas": [...], "csps": [...]}, codes), shown as
    # "Applies to …"; an urgent item's alert goes only to that segment of its readers.
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    topics: Mapped[list[Topic]] = relationship(
        secondary=news_item_topics, order_by="Topic.position", lazy="selectin"
    )


bulletin_topics = Table(
    "bulletin_topics",
    Base.metadata,
    Column("bulletin_id", ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class BulletinItem(Base):
    """A published news item featured in a bulletin, in the bulletin's order."""

    __tablename__ = "bulletin_items"

    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True
    )
    news_item_id: Mapped[int] = mapped_column(
        ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)

    news_item: Mapped[NewsItem] = relationship(lazy="joined")


class Bulletin(Base):
    """A newsletter staff write: an introduction, some featured items, and an audience (the
    readers of some topics, or everyone), sent once to each reader whatever their frequency."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    # The Markdown rendered to HTML and sanitised with nh3; safe to show as it is.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The Welsh (Cymraeg) texts; "" where there is none, and the Welsh pages show the English.
    subject_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    body_markdown_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    body_html_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    state: Mapped[BulletinState] = mapped_column(stored_enum(BulletinState), index=True)
    # True: every active subscriber; False: the readers of `topics`.
    everyone: Mapped[bool] = mapped_column(default=False)
    # Shown in the public archive and the feed once sent; False for email-only bulletins.
    public: Mapped[bool] = mapped_column(default=True)
    # Only these readers ({"nations", "pfas", "csps", "organisation_types"}: lists of codes;
    # an empty or missing list does not narrow).
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(400))
    # Under the two-person rule: who asked for approval, and who gave it.
    submitted_by: Mapped[str | None] = mapped_column(String(400))
    approved_by: Mapped[str | None] = mapped_column(String(400))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    topics: Mapped[list[Topic]] = relationship(
        secondary=bulletin_topics, order_by="Topic.position", lazy="selectin"
    )
    items: Mapped[list[BulletinItem]] = relationship(
        order_by="BulletinItem.position", cascade="all, delete-orphan", lazy="selectin"
    )
