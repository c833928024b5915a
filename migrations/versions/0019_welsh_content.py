"""Welsh (Cymraeg) texts of news items, bulletins and topics, beside the English ("" where
there is none, so the Welsh pages show the English with a note)

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = {
    "news_items": (
        ("title_cy", sa.String(200)),
        ("summary_cy", sa.String(600)),
        ("body_markdown_cy", sa.Text()),
        ("body_html_cy", sa.Text()),
    ),
    "bulletins": (
        ("subject_cy", sa.String(200)),
        ("body_markdown_cy", sa.Text()),
        ("body_html_cy", sa.Text()),
    ),
    "topics": (
        ("name_cy", sa.String(120)),
        ("description_cy", sa.String(300)),
    ),
}


# Columns are added and dropped in place (never by rebuilding a table, which on SQLite would
# delete, by cascade, the subscriptions and deliveries that point at it).
def upgrade():
    for table, columns in COLUMNS.items():
        for name, kind in columns:
            op.add_column(table, sa.Column(name, kind, nullable=False, server_default=""))


def downgrade():
    for table, columns in COLUMNS.items():
        for name, _kind in reversed(columns):
            op.drop_column(table, name)
