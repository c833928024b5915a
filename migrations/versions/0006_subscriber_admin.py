"""subscriber admin and data protection: imports, erased subscribers, summaries of
deleted delivery records, the privacy notice version of each consent event

Revision ID: 0006
Revises: 0005
"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    _rehash_suppressions()
    op.create_table(
        "subscriber_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_imports")),
    )
    op.create_table(
        "delivery_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "confirm",
                "manage",
                "welcome",
                "alert",
                "digest",
                name="messagekind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                "cancelled",
                "bounced",
                name="deliverystatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("summarised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["send_runs.id"],
            name=op.f("fk_delivery_summaries_run_id_send_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_summaries")),
    )
    with op.batch_alter_table("delivery_summaries", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_summaries_day", ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_summaries_run_id"), ["run_id"], unique=False)

    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_version", sa.String(length=60), nullable=True))

    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscribers_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscribers_status"))

    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_column("notice_version")

    with op.batch_alter_table("delivery_summaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_summaries_run_id"))
        batch_op.drop_index("ix_delivery_summaries_day")

    op.drop_table("delivery_summaries")
    op.drop_table("subscriber_imports")


def _rehash_suppressions():
    """Suppressed addresses were stored under a plain SHA-256; store them under the keyed
    HMAC of MAILER_SUPPRESSION_KEY (none was erased before this revision: each has its
    address)."""
    key = current_app.config["SUPPRESSION_KEY"]
    if not key:
        raise RuntimeError("MAILER_SUPPRESSION_KEY must be set before this migration runs")
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, email FROM suppressions")).all()
    for row_id, email in rows:
        digest = hmac.new(key.encode(), email.casefold().encode(), hashlib.sha256).hexdigest()
        connection.execute(
            sa.text("UPDATE suppressions SET address_hash = :hash WHERE id = :id"),
            {"hash": digest, "id": row_id},
        )
