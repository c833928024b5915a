"""Every figure of the sending-at-scale targets, on SQLite and on PostgreSQL, in one run.

    .venv/bin/python bench/all.py [--markdown bench/results.md] [--quick]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Runs the benches one after the other, each in a process of its own (never two at once: they
would measure each other), on a SQLite file and on a private database of the PostgreSQL server
given: the digest fan-out at 100,000 and 1,000,000 subscribers (`fanout.py`), 1, 2 and 4 worker
processes (`workers.py`), the same signed with RSA-2048 and Ed25519 on every core, the staff
pages at 30,000,000 deliveries (`staff_pages.py`), the public pages under gunicorn
(`public_pages.py`) and 1,000 concurrent one-click unsubscribes (`one_click.py`). It reads
each bench's RESULT line and prints one table of every figure beside its target, with the
load average before each bench. `--quick` runs every bench small, to check the runner; its
figures are not the targets'. `--only fanout,staff:postgresql` runs some of them. Each bench's
own output goes to `--logs` (a directory), for the profile behind a figure; `--resume` takes
the figures of the benches whose log there is complete and runs the others.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Figure:
    """One figure beside its target."""

    what: str
    database: str
    value: str
    target: str
    met: bool | None  # None: printed for reading, no target of its own


@dataclass(frozen=True)
class Bench:
    """One bench to run on one database, and how to read its RESULT line."""

    name: str
    database: str
    argv: list[str]
    read: Callable[[dict[str, str], str], list[Figure]]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--database-url", default=POSTGRES, help="the PostgreSQL server")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the runner")
    parser.add_argument(
        "--only",
        help="comma-separated names (fanout, workers, signed, public, oneclick, fanout-large, "
        "staff), each alone or with a database (staff:postgresql)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="take the figures of a bench whose log in --logs has its RESULT line, not run it",
    )
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--logs", type=Path, default=Path("bench-logs"), metavar="DIR")
    return parser.parse_args(argv)


def result_line(output: str) -> dict[str, str]:
    """The key=value pairs of the last RESULT line of a bench's output."""
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    if not lines:
        return {}
    return dict(part.split("=", 1) for part in lines[-1].split()[1:] if "=" in part)


def _ratio(at_least: float) -> Callable[[str], bool]:
    return lambda value: float(value) >= at_least


def fanout_figures(size: int) -> Callable[[dict[str, str], str], list[Figure]]:
    """The fan-out's ratio to the in-run ceiling, with its enqueue time, memory and steps."""

    def read(result: dict[str, str], database: str) -> list[Figure]:
        at = f"{size:,} subscribers"
        figures = [
            Figure(
                f"Fan-out, unsigned, {at}: ratio to the in-run smtplib ceiling",
                database,
                f"{result['ratio']} ({result['msgs_per_s']} of {result['ceiling_msgs_per_s']}"
                " msgs/s)",
                "≥ 0.75",
                _ratio(0.75)(result["ratio"]),
            ),
            Figure(
                f"Fan-out, {at}: ratio to the worker's own SMTP path alone (pipelined, nothing"
                " to read or compose)",
                database,
                f"{result['ratio_to_own_smtp']} (of {result['own_smtp_msgs_per_s']} msgs/s)",
                "",
                None,
            ),
            Figure(
                f"Fan-out, {at}: peak RSS", database, f"{result['peak_rss_mb']} MB", "flat", None
            ),
            Figure(
                f"Fan-out, {at}: renewing one chunk's leases / recording it",
                database,
                f"{result['renew_ms_per_chunk']} / {result['record_ms_per_chunk']} ms",
                "flat",
                None,
            ),
        ]
        enqueue = Figure(
            f"Enqueue of the digest, {at}", database, f"{result['enqueue_s']} s", "", None
        )
        if database == "PostgreSQL" and size >= 1_000_000:
            enqueue = Figure(
                enqueue.what, database, enqueue.value, "< 3 s", float(result["enqueue_s"]) < 3
            )
        return [enqueue, *figures]

    return read


def workers_figures(signed: bool) -> Callable[[dict[str, str], str], list[Figure]]:
    """Messages per second with 1, 2, 4 worker processes, each delivery once; or signed."""

    def read(result: dict[str, str], database: str) -> list[Figure]:
        rounds = result["workers"].split(",")
        rates = result["msgs_per_s"].split(",")
        once = result["exactly_once"] == "yes"
        if not signed:
            value = ", ".join(f"{n}: {rate}" for n, rate in zip(rounds, rates, strict=True))
            return [
                Figure("Worker processes: msgs/s", database, value, "", None),
                Figure(
                    "Worker processes: each delivery sent once",
                    database,
                    "yes" if once else "no",
                    "yes",
                    once,
                ),
            ]
        ratios = result["ratio"].split(",")
        shares = result["worker_cpu_share"].split(",")
        best = max(float(ratio) for ratio in ratios)
        value = ", ".join(
            f"{n} processes: {rate} msgs/s = {ratio} (the workers had {float(share):.0%} of"
            " the cores)"
            for n, rate, ratio, share in zip(rounds, rates, ratios, shares, strict=True)
        )
        return [
            Figure(
                f"Signed (RSA-2048 + Ed25519): ratio to the signing limit ({result['sign_limit']}"
                " msgs/s on every core)",
                database,
                value,
                "≥ 0.8",
                best >= 0.8 and once,
            )
        ]

    return read


def staff_figures(result: dict[str, str], database: str) -> list[Figure]:
    """The four staff pages' medians at the size filled."""
    slowest = float(result["slowest_ms"])
    pages = ", ".join(
        f"{name} {result[f'{name}_ms']}"
        for name in ("runs", "run", "deliverability", "dashboard")
        if f"{name}_ms" in result
    )
    return [
        Figure(
            f"Staff pages at {int(result['deliveries']):,} deliveries (ms)",
            database,
            pages,
            "< 200 ms",
            slowest < 200,
        )
    ]


def public_figures(result: dict[str, str], database: str) -> list[Figure]:
    """Each public page's requests per second over the bare page's, under gunicorn."""
    ratios = {
        key[: -len("_ratio")]: value for key, value in result.items() if key.endswith("_ratio")
    }
    value = ", ".join(f"{name} {ratio}" for name, ratio in ratios.items())
    met = all(float(ratio) >= 0.5 for ratio in ratios.values()) and result["errors"] == "0"
    return [
        Figure(
            f"Public pages under gunicorn: ratio to a bare page ({result['bare_rps']} req/s,"
            f" {result['tool']})",
            database,
            value,
            "≥ 0.5",
            met,
        )
    ]


def one_click_figures(result: dict[str, str], database: str) -> list[Figure]:
    """Concurrent one-click unsubscribes: none lost, no 5xx."""
    ok = result["status_5xx"] == "0" and result["lost"] == "0" and result["other"] == "0"
    return [
        Figure(
            f"{result['subscribers']} concurrent one-click POSTs",
            database,
            f"{result['per_s']}/s, p95 {result['p95_ms']} ms, 5xx {result['status_5xx']},"
            f" lost {result['lost']}",
            "no 5xx, none lost",
            ok,
        )
    ]


def plan(args: argparse.Namespace) -> list[Bench]:
    """The benches, in the order they run: the short ones on both databases first, then the
    fan-out at the large size, then the staff pages' 30,000,000 rows (the longest fill)."""
    quick = args.quick
    small, large = (2_000, 20_000) if quick else (100_000, 1_000_000)
    workers_size = "5000" if quick else "50000"
    signed_size = "2000" if quick else "80000"
    cores = str(os.cpu_count() or 1)
    deliveries = ["--deliveries", "300000", "--runs", "10"] if quick else []
    seconds = ["--seconds", "2"] if quick else []
    databases = (("SQLite", []), ("PostgreSQL", ["--database-url", args.database_url]))
    short = [
        ("fanout", ["fanout.py", "--subscribers", str(small)], fanout_figures(small)),
        ("workers", ["workers.py", "--subscribers", workers_size], workers_figures(signed=False)),
        (
            "signed",
            [
                *("workers.py", "--dkim", "--sink", "smtp-sink"),
                *("--subscribers", signed_size, "--workers", cores),
            ],
            workers_figures(signed=True),
        ),
        ("public", ["public_pages.py", *seconds], public_figures),
        ("oneclick", ["one_click.py"], one_click_figures),
    ]
    long = [
        # At this size one ceiling run is long enough to be steady.
        (
            "fanout-large",
            ["fanout.py", "--subscribers", str(large), "--ceiling-runs", "1"],
            fanout_figures(large),
        ),
        ("staff", ["staff_pages.py", *deliveries], staff_figures),
    ]
    benches = [
        Bench(name, label, [*argv, *url], read)
        for group in (short, long[:1], long[1:])
        for label, url in databases
        for name, argv, read in group
    ]
    if args.only:
        wanted = set(args.only.lower().split(","))
        benches = [
            bench
            for bench in benches
            if {bench.name, f"{bench.name}:{bench.database.lower()}"} & wanted
        ]
    return benches


def run(bench: Bench, logs: Path, *, resume: bool) -> tuple[list[Figure], float]:
    """Run one bench (or, resuming, read the log of its earlier run); its figures (or a line
    saying it failed) and its seconds."""
    load = os.getloadavg()[0]
    print(f"\n== {bench.name} on {bench.database}: {' '.join(bench.argv)} (load {load:.2f})")
    log = logs / f"{bench.name}-{bench.database.lower()}.txt"
    kept = result_line(log.read_text()) if resume and log.exists() else {}
    if kept:
        print(f"   from {log}: RESULT {' '.join(f'{k}={v}' for k, v in kept.items())}")
        return bench.read(kept, bench.database), 0.0
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 (this file's own command lines)
            [sys.executable, str(BENCH / bench.argv[0]), *bench.argv[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=BENCH.parent,
        )
        lines = []
        for line in process.stdout or ():
            out.write(line)
            lines.append(line)
            if line.startswith(("RESULT", "  sink has counted")) or "median" in line:
                print(f"   {line.rstrip()}", flush=True)
        process.wait()
    seconds = time.monotonic() - started
    result = result_line("".join(lines))
    if process.returncode != 0 or not result:
        failed = Figure(
            f"{bench.name} FAILED with exit {process.returncode}: see {log}",
            bench.database,
            "",
            "",
            False,
        )
        return [failed] if not result else [*bench.read(result, bench.database), failed], seconds
    return bench.read(result, bench.database), seconds


def table(figures: Sequence[Figure]) -> str:
    """The figures as a Markdown table."""
    rows = ["| figure | database | measured | target | met |", "| --- | --- | --- | --- | --- |"]
    for figure in figures:
        met = "" if figure.met is None else ("yes" if figure.met else "**no**")
        rows.append(
            f"| {figure.what} | {figure.database} | {figure.value} | {figure.target} | {met} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every bench; print the table."""
    args = parse_args(argv)
    args.logs.mkdir(parents=True, exist_ok=True)
    benches = plan(args)
    print(f"{len(benches)} benches on {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    figures: list[Figure] = []
    started = time.monotonic()
    for bench in benches:
        done, seconds = run(bench, args.logs, resume=args.resume)
        figures += done
        print(f"   ({seconds:.0f} s)")
        if args.markdown:  # so far, in case the run is stopped
            args.markdown.write_text(table(figures) + "\n")
    print(f"\nAll benches: {(time.monotonic() - started) / 60:.1f} minutes\n")
    text = table(figures)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    # A target not met is a figure to read; a bench that failed is an error.
    return 1 if any(" FAILED with exit " in figure.what for figure in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
