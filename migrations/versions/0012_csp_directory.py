"""the CSP directory: partnerships with their ONS codes, names, status and contact details,
the councils they cover, police force areas, and the corrections people suggest; deliveries
can go to a partnership's mailbox instead of a subscriber

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=20)


def upgrade():
    op.create_table(
        "police_force_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "councils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    _create_csps()
    op.create_table(
        "csp_councils",
        sa.Column("csp_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["csp_id"], ["csps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("csp_id", "council_id"),
    )
    _create_suggestions()
    _deliveries_to_partnerships()


def _deliveries_to_partnerships():
    """A delivery names a subscriber or a partnership. The partnership column has no foreign
    key (as in 0010), and on SQLite the subscriber column loses NOT NULL by SQLite's own
    procedure for dropping a NOT NULL constraint (sqlite.org/lang_altertable.html, "Making
    Other Kinds Of Table Schema Changes"): rewriting the stored CREATE TABLE in place. A batch
    rebuild would drop the table, and with it, by cascade, what points at it."""
    op.add_column("deliveries", sa.Column("csp_id", sa.Integer(), nullable=True))
    op.create_index("ix_deliveries_csp_id", "deliveries", ["csp_id"], unique=False)
    _subscriber_required(False)


def _subscriber_required(required):
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "deliveries", "subscriber_id", existing_type=sa.Integer(), nullable=not required
        )
        return
    before, after = "subscriber_id INTEGER NOT NULL,", "subscriber_id INTEGER,"
    if required:
        before, after = after, before
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
        (before, after, "deliveries"),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    columns = bind.exec_driver_sql("PRAGMA table_info(deliveries)").all()
    notnull = next(column[3] for column in columns if column[1] == "subscriber_id")
    if bool(notnull) != required:
        raise RuntimeError("deliveries.subscriber_id did not change as expected; stopping")


def _create_csps():
    op.create_table(
        "csps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_cy", sa.String(length=120), nullable=False),
        sa.Column("nation", _enum("nation", "england", "wales"), nullable=False),
        sa.Column("pfa_id", sa.Integer(), nullable=True),
        sa.Column("status", _enum("cspstatus", "active", "ended"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("successor_code", sa.String(length=9), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("web", sa.String(length=300), nullable=False),
        sa.Column("last_confirmed", sa.Date(), nullable=True),
        sa.Column("last_reminded", sa.Date(), nullable=True),
        sa.Column("links_used", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pfa_id"], ["police_force_areas.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_csps_name", "csps", ["name"], unique=False)
    op.create_index("ix_csps_pfa_id", "csps", ["pfa_id"], unique=False)


def _create_suggestions():
    op.create_table(
        "csp_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("csp_id", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=1000), nullable=False),
        sa.Column("correction", sa.String(length=1000), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "status", _enum("suggestionstatus", "pending", "approved", "rejected"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(["csp_id"], ["csps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_csp_suggestions_csp_id", "csp_suggestions", ["csp_id"], unique=False)
    op.create_index("ix_csp_suggestions_status", "csp_suggestions", ["status"], unique=False)


def downgrade():
    op.execute("DELETE FROM deliveries WHERE subscriber_id IS NULL")
    _subscriber_required(True)
    op.drop_index("ix_deliveries_csp_id", table_name="deliveries")
    op.drop_column("deliveries", "csp_id")
    op.drop_index("ix_csp_suggestions_status", table_name="csp_suggestions")
    op.drop_index("ix_csp_suggestions_csp_id", table_name="csp_suggestions")
    op.drop_table("csp_suggestions")
    op.drop_table("csp_councils")
    op.drop_index("ix_csps_pfa_id", table_name="csps")
    op.drop_index("ix_csps_name", table_name="csps")
    op.drop_table("csps")
    op.drop_table("councils")
    op.drop_table("police_force_areas")
