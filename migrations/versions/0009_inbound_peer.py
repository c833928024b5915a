"""the connecting address of each message the bounce inbox keeps, so that one client can
have only so many kept an hour

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "inbound_messages",
        sa.Column("peer", sa.String(length=45), server_default="", nullable=False),
    )
    op.create_index(
        "ix_inbound_messages_peer_received_at",
        "inbound_messages",
        ["peer", "received_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_inbound_messages_peer_received_at", table_name="inbound_messages")
    op.drop_column("inbound_messages", "peer")
