"""counts kept on send runs as deliveries settle, and tallies of messages sent per run (ten
seconds) and per hour and kind, so that staff pages never count deliveries; counted here from
the deliveries (and retention's summaries) already held

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COUNTS = ("sent", "failed", "cancelled", "bounced", "complained")


def upgrade():
    # Plain add_column and create_table only: a batch rebuild of `send_runs` would drop the
    # table, and with it, by cascade on SQLite, the deliveries that point at it.
    for name in COUNTS:
        op.add_column(
            "send_runs", sa.Column(name, sa.Integer(), nullable=False, server_default="0")
        )
    for name in ("first_sent_at", "last_sent_at"):
        op.add_column("send_runs", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "run_sends",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["send_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "bucket"),
    )
    op.create_table(
        "hourly_sends",
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "kind"),
    )
    op.create_index(
        "ix_consent_events_action_at", "consent_events", ["action", "at"], unique=False
    )
    _count_what_is_held(op.get_bind().dialect.name == "postgresql")


def _count_what_is_held(postgresql):
    """Each run's counts, its first and last send, and the tallies, from one pass over the
    deliveries each (retention's summaries add to the counts and, on the day they were
    made, to the hours)."""
    if postgresql:
        seconds = "floor(extract(epoch from {}))::bigint"
        day_seconds = "extract(epoch from cast(day as timestamp))::bigint"
    else:
        seconds = "cast(strftime('%s', {}) as integer)"
        day_seconds = "cast(strftime('%s', day) as integer)"
    sent_second = seconds.format("sent_at")
    by_status = ", ".join(
        f"sum(CASE WHEN status = '{name}' THEN n ELSE 0 END) AS {name}" for name in COUNTS[:4]
    )
    op.execute(
        f"""UPDATE send_runs SET sent = c.sent, failed = c.failed, cancelled = c.cancelled,
        bounced = c.bounced, first_sent_at = c.first_sent_at, last_sent_at = c.last_sent_at
        FROM (SELECT run_id, {by_status}, min(first_sent_at) AS first_sent_at,
                max(last_sent_at) AS last_sent_at
            FROM (SELECT run_id, status, count(*) AS n, min(sent_at) AS first_sent_at,
                    max(sent_at) AS last_sent_at
                FROM deliveries WHERE run_id IS NOT NULL GROUP BY run_id, status
                UNION ALL
                SELECT run_id, status, sum(count), NULL, NULL FROM delivery_summaries
                WHERE run_id IS NOT NULL GROUP BY run_id, status) AS held
            GROUP BY run_id) AS c
        WHERE send_runs.id = c.run_id"""
    )
    op.execute(
        """UPDATE send_runs SET complained = c.complained
        FROM (SELECT d.run_id, count(DISTINCT b.delivery_id) AS complained
            FROM bounce_events b JOIN deliveries d ON d.id = b.delivery_id
            WHERE b.kind = 'complaint' AND d.run_id IS NOT NULL GROUP BY d.run_id) AS c
        WHERE send_runs.id = c.run_id"""
    )
    op.execute(
        f"""INSERT INTO run_sends (run_id, bucket, count)
        SELECT run_id, {sent_second} / 10 * 10 AS bucket, count(*) FROM deliveries
        WHERE run_id IS NOT NULL AND sent_at IS NOT NULL
        GROUP BY run_id, {sent_second} / 10 * 10"""
    )
    op.execute(
        f"""INSERT INTO hourly_sends (hour, kind, count)
        SELECT hour, kind, sum(n) FROM (
            SELECT {sent_second} / 3600 * 3600 AS hour, kind, count(*) AS n FROM deliveries
            WHERE sent_at IS NOT NULL AND status IN ('sent', 'bounced')
            GROUP BY {sent_second} / 3600 * 3600, kind
            UNION ALL
            SELECT {day_seconds}, kind, sum(count) FROM delivery_summaries
            WHERE status IN ('sent', 'bounced') GROUP BY day, kind) AS went
        GROUP BY hour, kind"""
    )


def downgrade():
    op.drop_index("ix_consent_events_action_at", table_name="consent_events")
    op.drop_table("hourly_sends")
    op.drop_table("run_sends")
    for name in ("last_sent_at", "first_sent_at", *reversed(COUNTS)):
        op.drop_column("send_runs", name)
