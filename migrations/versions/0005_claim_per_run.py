"""claim each sending run's mail through its own index range

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_run_status")
        batch_op.create_index(
            "ix_deliveries_run_status", ["run_id", "status", "next_attempt_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_run_status")
        batch_op.create_index("ix_deliveries_run_status", ["run_id", "status"], unique=False)
