"""self-service copies of a subscriber's data: the count of copies downloaded, which makes
each emailed link single-use

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "subscribers", sa.Column("data_copies", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch rebuild of subscribers would
    # drop the table, and with it, by cascade, every delivery and consent event.
    op.drop_column("subscribers", "data_copies")
