"""deliveries: fewer and smaller indexes, so that enqueueing a large run writes less

The (status, next_attempt_at, id) index is replaced by a partial index of the leases being
held (what the claim of expired leases and the stale-lease job read); the Message-ID and
partnership indexes keep only the rows that have one (a new delivery has neither).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _partial(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade():
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    op.drop_index("ix_deliveries_csp_id", table_name="deliveries")
    op.create_index(
        "ix_deliveries_leased",
        "deliveries",
        ["lease_expires_at"],
        **_partial("status = 'sending'"),
    )
    op.create_index(
        "ix_deliveries_message_id",
        "deliveries",
        ["message_id"],
        **_partial("message_id IS NOT NULL"),
    )
    op.create_index(
        "ix_deliveries_csp_id", "deliveries", ["csp_id"], **_partial("csp_id IS NOT NULL")
    )


def downgrade():
    op.drop_index("ix_deliveries_csp_id", table_name="deliveries")
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    op.drop_index("ix_deliveries_leased", table_name="deliveries")
    op.create_index("ix_deliveries_csp_id", "deliveries", ["csp_id"])
    op.create_index("ix_deliveries_message_id", "deliveries", ["message_id"])
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at", "id"])
