"""Summarise a py-spy profile in collapsed-stack form (fanout.py --profile FILE).

Prints the samples of each thread, then per group of threads (the worker's main thread, the
SMTP threads) the functions that held the most samples themselves (self) and those under
which the most samples fell (inclusive). Usage: bench/hotspots.py FILE [--top N] [--focus TEXT]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections import defaultdict
from pathlib import Path

# "function (path/to/file.py:123)": the line number is dropped so that a function's
# samples add up whichever line they were on.
_LINE = re.compile(r":\d+\)$")


def _group(thread: str) -> str:
    name = thread.partition(": ")[2] or thread
    return re.sub(r"_\d+$", "_*", name)


def load(path: Path, focus: str | None) -> dict[str, list[tuple[list[str], int]]]:
    """Stacks by thread group: (frames root first, samples)."""
    groups: dict[str, list[tuple[list[str], int]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or (focus and focus not in stack):
            continue
        frames = stack.split(";")
        groups[_group(frames[0])].append(([_LINE.sub(")", f) for f in frames[1:]], int(count)))
    return groups


def summarise(stacks: list[tuple[list[str], int]], top: int) -> None:
    """Print the top self and inclusive functions of one group."""
    total = sum(count for _, count in stacks)
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    for frames, count in stacks:
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            under[frame] += count
    for title, counter in (("self", own), ("inclusive", under)):
        print(f"  top {top} by {title}:")
        for frame, count in counter.most_common(top):
            print(f"    {100 * count / total:5.1f}%  {count:6d}  {frame}")


def main() -> None:
    """Read the profile and print its summary."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--focus", help="keep only stacks with a frame containing this text")
    args = parser.parse_args()
    groups = load(args.profile, args.focus)
    grand = sum(count for stacks in groups.values() for _, count in stacks)
    for name, stacks in sorted(groups.items(), key=lambda kv: -sum(c for _, c in kv[1])):
        samples = sum(count for _, count in stacks)
        print(f"{name}: {samples} samples ({100 * samples / grand:.1f}% of all)")
        summarise(stacks, args.top)


if __name__ == "__main__":
    main()
