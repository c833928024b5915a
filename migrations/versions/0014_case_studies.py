"""effective practice: case studies, their tags, versions, attachments and enquiries; the
columns that name who a delivery about them goes to

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_DELIVERY_COLUMNS = ("case_study_id", "enquiry_id", "contact_message_id")


def _text(name):
    return sa.Column(name, sa.Text(), nullable=False, server_default="")


def upgrade():
    op.create_table(
        "case_studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(120), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False, server_default=""),
        _text("summary"),
        sa.Column("title_cy", sa.String(200), nullable=False, server_default=""),
        _text("summary_cy"),
        sa.Column("csp_id", sa.Integer(), nullable=True),
        _text("partners"),
        sa.Column("nation", sa.String(20), nullable=True),
        sa.Column("area", sa.String(200), nullable=False, server_default=""),
        sa.Column("rating", sa.String(20), nullable=True),
        sa.Column("evaluated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("contact_role", sa.String(200), nullable=False, server_default=""),
        sa.Column("contact_consent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("declaration", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("submitter_email", sa.String(320), nullable=False),
        sa.Column("links_used", sa.Integer(), nullable=False, server_default="0"),
        _text("review_notes"),
        _text("rejected_reason"),
        _text("search_text"),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["csp_id"], ["csps.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_index(
        "ix_case_studies_state_published_at", "case_studies", ["state", "published_at"]
    )
    op.create_table(
        "case_study_tags",
        sa.Column("case_study_id", sa.Integer(), nullable=False),
        sa.Column("vocabulary", sa.String(20), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(["case_study_id"], ["case_studies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_study_id", "vocabulary", "code"),
    )
    op.create_index("ix_case_study_tags_code", "case_study_tags", ["code"])
    op.create_table(
        "case_study_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_study_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_study_id"], ["case_studies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_study_id", "number"),
    )
    op.create_index(
        "ix_case_study_versions_case_study_id", "case_study_versions", ["case_study_id"]
    )
    op.create_table(
        "case_study_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_study_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_study_id"], ["case_studies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("storage_key"),
    )
    op.create_index(
        "ix_case_study_attachments_case_study_id", "case_study_attachments", ["case_study_id"]
    )
    op.create_table(
        "case_study_enquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_study_id"], ["case_studies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_case_study_enquiries_case_study_id", "case_study_enquiries", ["case_study_id"]
    )
    # Plain add_column only: a batch rebuild of `deliveries` would lose rows (see 0012).
    for column in _DELIVERY_COLUMNS:
        op.add_column("deliveries", sa.Column(column, sa.Integer(), nullable=True))
        # Partial, as the partnership index: most deliveries have none, and each indexed
        # row costs a large run's enqueue an insertion.
        op.create_index(
            f"ix_deliveries_{column}",
            "deliveries",
            [column],
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade():
    for column in reversed(_DELIVERY_COLUMNS):
        op.drop_index(f"ix_deliveries_{column}", table_name="deliveries")
        op.drop_column("deliveries", column)
    for table in ("case_study_enquiries", "case_study_attachments", "case_study_versions"):
        op.drop_index(f"ix_{table}_case_study_id", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_case_study_tags_code", table_name="case_study_tags")
    op.drop_table("case_study_tags")
    op.drop_index("ix_case_studies_state_published_at", table_name="case_studies")
    op.drop_table("case_studies")
