"""a second factor for staff (an authenticator app's secret and the last code used), and the
reasons people give when they leave, kept apart from who gave them

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("staff_users", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("staff_users", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "leaving_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_leaving_reasons"),
    )
    op.create_index("ix_leaving_reasons_at", "leaving_reasons", ["at"], unique=False)


def downgrade():
    op.drop_index("ix_leaving_reasons_at", table_name="leaving_reasons")
    op.drop_table("leaving_reasons")
    op.drop_column("staff_users", "totp_last_step")
    op.drop_column("staff_users", "totp_secret")
