"""practitioners and their area: a subscriber's organisation type and CSP areas (both
optional); the segment a bulletin or a news item is sent to or applies to

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    # Plain add_column and create_table only: a batch rebuild of `subscribers` would drop the
    # table, and with it, by cascade on SQLite, the rows that point at it.
    op.add_column("subscribers", sa.Column("organisation_type", sa.String(30), nullable=True))
    op.create_table(
        "subscriber_areas",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("csp_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["csp_id"], ["csps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "csp_id"),
    )
    op.create_index("ix_subscriber_areas_csp_id", "subscriber_areas", ["csp_id"], unique=False)
    for table in ("bulletins", "news_items"):
        op.add_column(
            table, sa.Column("segment", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade():
    for table in ("news_items", "bulletins"):
        op.drop_column(table, "segment")
    op.drop_index("ix_subscriber_areas_csp_id", table_name="subscriber_areas")
    op.drop_table("subscriber_areas")
    op.drop_column("subscribers", "organisation_type")
