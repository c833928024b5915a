"""effective practice: full-text search over published case studies (a generated tsvector
column with a GIN index on PostgreSQL, an FTS5 table kept in step by triggers on SQLite)

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The weighted document of a case study: its title (A) above its summary (B) above the rest.
DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, summary), 'B') || "
    "to_tsvector('english'::regconfig, search_text)"
)
_COLUMNS = "title, summary, search_text"
_NEW = "new.id, new.title, new.summary, new.search_text"
_OLD = "'delete', old.id, old.title, old.summary, old.search_text"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE case_studies ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
        )
        op.execute("CREATE INDEX ix_case_studies_search ON case_studies USING gin (search_vector)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE case_studies_fts USING fts5("
        f"{_COLUMNS}, content='case_studies', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    add = f"INSERT INTO case_studies_fts(rowid, {_COLUMNS}) VALUES ({_NEW});"
    remove = f"INSERT INTO case_studies_fts(case_studies_fts, rowid, {_COLUMNS}) VALUES ({_OLD});"
    op.execute(f"CREATE TRIGGER case_studies_fts_insert AFTER INSERT ON case_studies BEGIN {add} END")
    op.execute(
        f"CREATE TRIGGER case_studies_fts_delete AFTER DELETE ON case_studies BEGIN {remove} END"
    )
    op.execute(
        f"CREATE TRIGGER case_studies_fts_update AFTER UPDATE OF {_COLUMNS} ON case_studies "
        f"BEGIN {remove} {add} END"
    )
    op.execute("INSERT INTO case_studies_fts(case_studies_fts) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_case_studies_search")
        op.execute("ALTER TABLE case_studies DROP COLUMN search_vector")
        return
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER case_studies_fts_{name}")
    op.execute("DROP TABLE case_studies_fts")
