"""Searching the effective practice library at 10,000 case studies: queries per second, median
and p95 latency of one page of results (count and rows), on SQLite and on PostgreSQL.

    .venv/bin/python bench/practice_search.py [--case-studies 10000] [--rounds 10]
    .venv/bin/python bench/practice_search.py --postgres-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/practice_search.py --no-postgres

Makes its own databases (a SQLite file in a temporary directory, and a private PostgreSQL
database bench_practice_<pid> on the server of --postgres-url, dropped at the end), migrates
them, inserts the same published case studies into each (varied vocabulary: community safety
words and made-up ones, so that some words are common and many rare), then times
`practice_library.library_page` for each query of QUERIES, `--rounds` times. Checks that a case
study with a word in its title ranks above a newer one that mentions it once in a section.
Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from dataset import bench_app
from dataset import private_postgres
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text

from mailer.domain import practice_terms
from mailer.domain.practice_library import Filters
from mailer.domain.practice_library import Sort
from mailer.domain.practice_library import library_page
from mailer.extensions import db
from mailer.models import CaseStudy
from mailer.models import CaseStudyRating
from mailer.models import CaseStudyState
from mailer.models import CaseStudyTag
from mailer.models import Nation

NOW = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
CHUNK = 1000
RARE = "zephyrine"
WORDS = (
    "community safety partnership police council youth outreach lighting street patrol "
    "burglary robbery shoplifting violence domestic abuse victims offenders mentoring school "
    "housing estate alley gating cameras wardens night economy alcohol drugs county lines "
    "exploitation missing children referral pathway training volunteers survey evaluation "
    "reoffending probation health hospital ambulance fire arson graffiti litter nuisance "
    "neighbours mediation restorative justice hate crime reporting library faith cohesion "
    "bicycle theft vehicle parking market town centre shops radio network text alerts "
    "funding budget cost staff coordinator meeting data analysis hotspots mapping trend "
    "results reduction increase baseline comparison control group months year pilot scheme"
).split()
SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "sil", "bri", "dun", "fel", "gar", "ny")
QUERIES: tuple[tuple[str, Filters], ...] = (
    ("common word", Filters(q="community")),
    ("common word, relevance", Filters(q="community", sort=Sort.RELEVANCE)),
    ("two words", Filters(q="street lighting", sort=Sort.RELEVANCE)),
    ("phrase", Filters(q='"county lines"', sort=Sort.RELEVANCE)),
    ("rare word", Filters(q=RARE, sort=Sort.RELEVANCE)),
    ("made-up word", Filters(q="kaloven", sort=Sort.RELEVANCE)),
    (
        "filters + q",
        Filters(q="burglary", themes=("neighbourhood-crime",), nations=(Nation.WALES,)),
    ),
    ("filters, no q", Filters(themes=("youth-crime", "exploitation"), evaluated=True)),
    ("no q", Filters()),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case-studies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10, help="times each query is run")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "MAILER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="the PostgreSQL server to make the private database on",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    return parser.parse_args(argv)


def _words(rng: random.Random, count: int) -> str:
    """`count` words: mostly the community safety words, some made up (a long tail)."""
    out = []
    for _ in range(count):
        if rng.random() < 0.8:
            out.append(rng.choice(WORDS))
        else:
            out.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return " ".join(out)


def _rows(total: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    themes, crimes = list(practice_terms.THEMES), list(practice_terms.CRIME_TYPES)
    for number in range(total):
        title = _words(rng, rng.randint(4, 8)).capitalize()
        summary = _words(rng, rng.randint(40, 80))
        answers = {
            key: _words(rng, rng.randint(30, 90))
            for key in rng.sample(list(practice_terms.SECTIONS), 5)
        }
        tags = [("theme", rng.choice(themes)), ("crime_type", rng.choice(crimes))]
        yield _row(number, title, summary, answers, tags, rng)


def _row(
    number: int,
    title: str,
    summary: str,
    answers: dict[str, str],
    tags: list[tuple[str, str]],
    rng: random.Random,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    at = at or NOW - timedelta(hours=number)
    return {
        "slug": f"case-study-{number}",
        "state": CaseStudyState.PUBLISHED,
        "title": title,
        "summary": summary,
        "answers": answers,
        "nation": rng.choice(["england", "wales"]),
        "rating": rng.choice(list(CaseStudyRating)),
        "evaluated": rng.random() < 0.5,
        "submitter_email": f"submitter{number}@example.org",
        "search_text": practice_terms.search_text(title, summary, answers, tags),
        "published_at": at,
        "submitted_at": at,
        "created_at": at,
        "updated_at": at,
        "_tags": tags,
    }


def fill(total: int) -> None:
    """Insert `total` published case studies (the same on every database), and the two of
    the ranking check: one with RARE in its title, a newer one with it once in a section."""
    rng = random.Random(16)
    rows = list(_rows(total, rng))
    section = {"lessons": f"One partner mentioned {RARE} once, in passing."}
    rows.append(_row(total, f"The {RARE} scheme", "A short summary.", {}, [], rng))
    rows.append(
        _row(total + 1, "Another scheme", "Short.", section, [], rng, at=NOW + timedelta(days=1))
    )
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        db.session.execute(
            insert(CaseStudy), [{k: v for k, v in r.items() if k != "_tags"} for r in chunk]
        )
    ids = dict(db.session.execute(select(CaseStudy.slug, CaseStudy.id)).all())
    tags = [
        {"case_study_id": ids[r["slug"]], "vocabulary": v, "code": c}
        for r in rows
        for v, c in dict.fromkeys(r["_tags"])
    ]
    for start in range(0, len(tags), CHUNK * 5):
        db.session.execute(insert(CaseStudyTag), tags[start : start + CHUNK * 5])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # As autovacuum would after a bulk load: merge the GIN index's pending list, and
        # gather the statistics the planner chooses the index by.
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE case_studies"))


def measure(rounds: int) -> dict[str, Any]:
    """Time every query `rounds` times; return the latencies and what each found."""
    latencies: list[float] = []
    found: dict[str, tuple[int, float]] = {}
    for name, filters in QUERIES:
        each = []
        for _ in range(rounds):
            started = time.perf_counter()
            page = library_page(filters, page=1, per_page=20)
            each.append(time.perf_counter() - started)
            db.session.rollback()
        latencies += each
        found[name] = (page.total, statistics.median(each) * 1000)
    ranked = library_page(Filters(q=RARE, sort=Sort.RELEVANCE), page=1, per_page=20)
    ranking_ok = [case.title for case in ranked.items][:2] == [
        f"The {RARE} scheme",
        "Another scheme",
    ]
    ordered = sorted(latencies)
    return {
        "qps": len(latencies) / sum(latencies),
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "found": found,
        "ranking_ok": ranking_ok,
    }


def uses_index() -> str:
    """Whether PostgreSQL's plan for a word query reads the GIN index."""
    if db.engine.dialect.name != "postgresql":
        return "fts5"
    plan = db.session.execute(
        text(
            "EXPLAIN SELECT id FROM case_studies WHERE search_vector @@ "
            "websearch_to_tsquery('english'::regconfig, :q)"
        ),
        {"q": RARE},
    ).scalars()
    return "yes" if any("ix_case_studies_search" in line for line in plan) else "no"


def run_on(url: str, args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    app = bench_app(url, OUTBOX_DIR=workdir)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        fill(args.case_studies)
        fill_s = time.perf_counter() - started
        figures = measure(args.rounds)
        figures["fill_s"] = fill_s
        figures["index"] = uses_index()
        db.session.remove()
        db.engine.dispose()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.INFO)
    print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    results: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as workdir:
        targets = {"sqlite": f"sqlite:///{Path(workdir) / 'bench.sqlite'}"}
        if not args.no_postgres:
            targets["postgresql"] = stack.enter_context(
                private_postgres(args.postgres_url, "bench_practice_")
            )
        for name, url in targets.items():
            figures = results[name] = run_on(url, args, workdir)
            print(
                f"{name}: {args.case_studies} case studies inserted in {figures['fill_s']:.1f} s; "
                f"{figures['qps']:.0f} queries/s, median {figures['median_ms']:.1f} ms, "
                f"p95 {figures['p95_ms']:.1f} ms; index used: {figures['index']}; "
                f"title match ranks first: {figures['ranking_ok']}"
            )
            for query, (total, median) in figures["found"].items():
                print(f"  {query:<24} {total:>6} found, median {median:7.1f} ms")
    parts = [f"case_studies={args.case_studies}"]
    for name, figures in results.items():
        parts += [
            f"{name}_qps={figures['qps']:.0f}",
            f"{name}_median_ms={figures['median_ms']:.1f}",
            f"{name}_p95_ms={figures['p95_ms']:.1f}",
        ]
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    ranking = all(figures["ranking_ok"] for figures in results.values())
    print("RESULT " + " ".join(parts) + f" ranking_ok={str(ranking).lower()}")
    return 0 if ranking else 1


if __name__ == "__main__":
    raise SystemExit(main())
