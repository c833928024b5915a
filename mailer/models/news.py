"""News items and the topics they are filed under."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from mailer.extensions import Base
from mailer.models.columns import UTCDateTime
from mailer.models.columns import stored_enum
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
    state: Mapped[NewsState] = mapped_column(stored_enum(NewsState))
    # When a scheduled item is to be published.
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    topics: Mapped[list[Topic]] = relationship(
        secondary=news_item_topics, order_by="Topic.position", lazy="selectin"
    )
