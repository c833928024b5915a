"""contact the unit: messages sent through the contact form and the replies staff send

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contact_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("subject_area", sa.String(30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(400), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_messages_email", "contact_messages", ["email"])
    op.create_index(
        "ix_contact_messages_status_created_at", "contact_messages", ["status", "created_at"]
    )
    op.create_table(
        "contact_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_message_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(400), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_message_id"], ["contact_messages.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_contact_replies_contact_message_id", "contact_replies", ["contact_message_id"]
    )
    op.create_index("ix_contact_replies_delivery_id", "contact_replies", ["delivery_id"])


def downgrade():
    op.drop_index("ix_contact_replies_delivery_id", table_name="contact_replies")
    op.drop_index("ix_contact_replies_contact_message_id", table_name="contact_replies")
    op.drop_table("contact_replies")
    op.drop_index("ix_contact_messages_status_created_at", table_name="contact_messages")
    op.drop_index("ix_contact_messages_email", table_name="contact_messages")
    op.drop_table("contact_messages")
