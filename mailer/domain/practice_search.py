"""Full-text search over case studies, ranked: PostgreSQL's text search (a GIN index on the
weighted document, `websearch_to_tsquery`, `ts_rank_cd`) or SQLite's FTS5 (a table kept in
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
from sqlalchemy import table

from mailer.database import on_postgresql
from mailer.models import CaseStudy

# Longer queries are cut to this many characters, and to this many terms.
MAX_QUERY = 200
MAX_TERMS = 12
# The same text as the expression of the index in migration 0016, so that the planner uses it.
DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, case_studies.title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, case_studies.summary), 'B') || "
    "to_tsvector('english'::regconfig, case_studies.search_text)"
)
# FTS5 column weights for bm25: title, summary, search_text.
FTS_WEIGHTS = (10.0, 4.0, 1.0)
FTS_TABLE = table("case_studies_fts", column("rowid"))
_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Matched:
    """A statement narrowed to the case studies that match, and how well each does (a
    smaller `rank` is a better match)."""

    statement: Select[Any]
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
        document: ColumnElement[Any] = literal_column(f"({DOCUMENT})")
        wanted = func.websearch_to_tsquery(literal_column("'english'::regconfig"), query)
        rank = func.ts_rank_cd(document, wanted)
        return Matched(statement.where(document.op("@@")(wanted)), -rank)
    fts: ColumnElement[Any] = literal_column("case_studies_fts")
    terms = fts5_query(query)
    statement = statement.join(FTS_TABLE, FTS_TABLE.c.rowid == CaseStudy.id).where(
        fts.op("MATCH")(terms) if terms else false()
    )
    return Matched(statement, func.bm25(fts, *FTS_WEIGHTS))
