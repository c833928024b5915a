"""Full-text search over case studies, ranked: PostgreSQL's text search (a generated tsvector
column with a GIN index, `websearch_to_tsquery`, `ts_rank_cd`) or SQLite's FTS5 (a table kept in
step by triggers, `bm25`). Titles weigh most, then summaries, then everything else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import column
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import table

from mailer.database import on_postgresql
from mailer.models import CaseStudy

# Longer queries are cut to this many characters, and to this many terms.
MAX_QUERY = 200
MAX_TERMS = 12
# On PostgreSQL, the weighted document (title A, summary B, the rest D) of each case study, a
# generated column with a GIN index (migration 0016; not in the model, as the database fills it).
DOCUMENT = "case_studies.search_vector"
# FTS5 column weights for bm25: title, summary, search_text.
FTS_WEIGHTS = (10.0, 4.0, 1.0)
FTS_TABLE = table("case_studies_fts", column("rowid"))
_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Matched:
    """A statement narrowed to the case studies that match (to count them or list them
    newest first), and the same narrowed so that `rank`, how well each matches (smaller is
    better), can order it."""

    statement: Select[Any]
    ranked: Select[Any]
    rank: ColumnElement[Any]


def clean_query(text: str) -> str:
    """The query as searched: control characters as spaces, cut to MAX_QUERY, trimmed."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", text)[:MAX_QUERY].strip()


def fts5_query(text: str) -> str:
    """The words and "quoted phrases" of `text` as an FTS5 query that matches them all, each
    as a quoted string, so that no character of it is read as FTS5's syntax ("", an empty
    query, matches nothing)."""
    terms = []
    for match in _TERM.finditer(text):
        words = _WORD.findall(match.group(1) if match.group(1) is not None else match.group(2))
        if words:
            terms.append('"' + " ".join(words) + '"')
    return " ".join(terms[:MAX_TERMS])


def matching(statement: Select[Any], query: str) -> Matched:
    """`statement` (over CaseStudy) narrowed to the case studies whose text matches `query`.
    A case study is searchable once its search text is set."""
    statement = statement.where(CaseStudy.search_text != "")
    if on_postgresql():
        document: ColumnElement[Any] = literal_column(DOCUMENT)
        wanted = func.websearch_to_tsquery(literal_column("'english'::regconfig"), query)
        rank = func.ts_rank_cd(document, wanted)
        narrowed = statement.where(document.op("@@")(wanted))
        return Matched(narrowed, narrowed, -rank)
    fts: ColumnElement[Any] = literal_column("case_studies_fts")
    terms = fts5_query(query)
    found = fts.op("MATCH")(terms) if terms else false()
    # Counting and listing newest first read the matches once, as a set of ids; ranking joins
    # the FTS5 table, whose bm25 is known only in the query that matches.
    ids = select(FTS_TABLE.c.rowid).where(found)
    ranked = statement.join(FTS_TABLE, FTS_TABLE.c.rowid == CaseStudy.id).where(found)
    return Matched(statement.where(CaseStudy.id.in_(ids)), ranked, func.bm25(fts, *FTS_WEIGHTS))
