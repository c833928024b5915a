"""a random key per delivery, signed into its return path, so that a bounce binds to that
very email and never to a later delivery given the same id

Revision ID: 0008
Revises: 0007

Deliveries made before this have no key: their return paths, already out in the world,
name the id alone and still bind to them while they exist. Every delivery made after it
has a key, so such an old return path never binds to one of them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("deliveries", sa.Column("return_key", sa.String(length=20), nullable=True))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch rebuild of deliveries would
    # drop the table, and with it, by cascade, the bounce events' links to it.
    op.drop_column("deliveries", "return_key")
