"""subscribers: the language of their emails (en or cy)

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    # A plain add_column: a batch rebuild of `subscribers` would drop the table, and with it,
    # by cascade on SQLite, the rows that point at it.
    op.add_column(
        "subscribers", sa.Column("language", sa.String(2), nullable=False, server_default="en")
    )


def downgrade():
    op.drop_column("subscribers", "language")
