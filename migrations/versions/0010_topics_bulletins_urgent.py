"""topics with headings and a lifecycle, bulletins staff write, urgent news and the reason an
item was withdrawn

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "topics", sa.Column("heading", sa.String(length=80), server_default="", nullable=False)
    )
    op.add_column("topics", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    _add_reference("topics", "successor_id")
    op.add_column(
        "news_items",
        sa.Column("withdrawn_reason", sa.String(length=300), server_default="", nullable=False),
    )
    op.add_column(
        "news_items", sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "news_items",
        sa.Column("urgent_reason", sa.String(length=300), server_default="", nullable=False),
    )
    _create_bulletins()
    _add_reference("send_runs", "bulletin_id")
    op.create_index("ix_send_runs_bulletin_id", "send_runs", ["bulletin_id"], unique=False)


def _add_reference(table, column):
    """Add a nullable integer column naming a row of another table, without a foreign key:
    SQLite adds one only in ADD COLUMN, where it cannot be read back with its ON DELETE, and a
    batch rebuild would drop the table, and with it, by cascade, what points at it."""
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))


def _create_bulletins():
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "awaiting_approval",
                "approved",
                "scheduled",
                "sent",
                "cancelled",
                name="bulletinstate",
                native_enum=False,
                create_constraint=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("everyone", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=400), nullable=False),
        sa.Column("submitted_by", sa.String(length=400), nullable=True),
        sa.Column("approved_by", sa.String(length=400), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_index("ix_bulletins_state", "bulletins", ["state"], unique=False)
    op.create_index("ix_bulletins_sent_at", "bulletins", ["sent_at"], unique=False)
    op.create_table(
        "bulletin_topics",
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("bulletin_id", "topic_id"),
    )
    op.create_table(
        "bulletin_items",
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("news_item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["news_item_id"], ["news_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("bulletin_id", "news_item_id"),
    )


def downgrade():
    op.drop_index("ix_send_runs_bulletin_id", table_name="send_runs")
    op.drop_column("send_runs", "bulletin_id")
    op.drop_table("bulletin_items")
    op.drop_table("bulletin_topics")
    op.drop_index("ix_bulletins_sent_at", table_name="bulletins")
    op.drop_index("ix_bulletins_state", table_name="bulletins")
    op.drop_table("bulletins")
    op.drop_column("news_items", "urgent_reason")
    op.drop_column("news_items", "urgent")
    op.drop_column("news_items", "withdrawn_reason")
    op.drop_column("topics", "successor_id")
    op.drop_column("topics", "retired_at")
    op.drop_column("topics", "heading")
