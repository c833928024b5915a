"""Probes on the worker while it sends: its outgoing messages, the time in each step of its
loop, the sink's progress, and an optional py-spy recording."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from ceiling import Message
from sinks import Sink

from mailer.delivery import queue
from mailer.delivery.worker import Worker


@dataclass
class Sampler:
    """Stands in for the worker pool's send to see every outgoing message on its way: it
    counts their bytes and keeps a random few whole."""

    send: Callable[..., Any]
    rng: random.Random
    keep: int = 64
    seen: int = 0
    size: int = 0
    kept: list[Message] = field(default_factory=list)

    def __call__(
        self, items: Sequence[Any], outgoing: Callable[[Any], Any], *args: Any, **kwargs: Any
    ) -> Any:
        for item in items:
            message = outgoing(item)
            self.seen += 1
            self.size += len(message.data)
            if len(self.kept) < self.keep:
                self.kept.append(Message(message.envelope_from, message.recipient, message.data))
            elif (slot := self.rng.randrange(self.seen)) < self.keep:
                self.kept[slot] = Message(message.envelope_from, message.recipient, message.data)
        return self.send(items, outgoing, *args, **kwargs)

    @property
    def mean_size(self) -> float:
        return self.size / self.seen if self.seen else 0.0

    def typical(self) -> Message:
        """The kept message whose size is nearest the mean."""
        return min(self.kept, key=lambda message: abs(len(message.data) - self.mean_size))


class Phases:
    """Times the steps of the worker's loop by wrapping them where they are looked up: the
    queue functions in the queue module, the rest on the worker itself. Steps the code no
    longer has are left out."""

    STEPS = (
        ("claim", "queue", "claim_batch"),
        ("compose", "worker", "prepare"),
        ("renew leases", "worker", "_still_wanted"),
        ("waiting for smtp", "worker", "_land"),
        ("record", "worker", "_record"),
        ("finish runs", "queue", "finish_runs"),
    )

    def __init__(self, worker: Worker) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[Callable[[], None]] = []
        owners = {"queue": queue, "worker": worker, "pool": worker.pool}
        for label, owner_name, attribute in self.STEPS:
            owner = owners[owner_name]
            if hasattr(owner, attribute):
                self._wrap(label, owner, attribute)

    def _wrap(self, label: str, owner: Any, attribute: str) -> None:
        original = getattr(owner, attribute)
        self.seconds[label] = 0.0
        self.calls[label] = 0

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1

        setattr(owner, attribute, timed)
        if isinstance(owner, types.ModuleType):
            self._undo.append(lambda: setattr(owner, attribute, original))

    def restore(self) -> None:
        """Put the module functions back."""
        for undo in self._undo:
            undo()

    def ms_per_call(self, label: str) -> float:
        """The mean milliseconds of one call of the step `label` (a chunk's renewal, say)."""
        return 1000 * self.seconds.get(label, 0.0) / max(self.calls.get(label, 0), 1)

    def report(self, total: float) -> str:
        """The steps' shares of `total` seconds."""
        parts = [f"{label} {seconds:.1f} s" for label, seconds in self.seconds.items()]
        other = total - sum(self.seconds.values())
        return ", ".join([*parts, f"other {other:.1f} s"])


class Progress(threading.Thread):
    """Prints how many messages the sink has counted, every `every` seconds."""

    def __init__(self, sink: Sink, base: int, every: float = 10.0) -> None:
        super().__init__(daemon=True, name="bench-progress")
        self.sink, self.base, self.every = sink, base, every
        self.stopped = threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        while not self.stopped.wait(self.every):
            counted = self.sink.count() - self.base
            elapsed = time.perf_counter() - started
            print(f"  sink has counted {counted:,} ({counted / elapsed:,.0f}/s)", flush=True)


class ChildrenPeak(threading.Thread):
    """Watches this process's children while it runs: the highest peak resident memory
    (VmHWM) any one of them reached, in MB."""

    def __init__(self, every: float = 0.2) -> None:
        super().__init__(daemon=True, name="bench-children-peak")
        self.every = every
        self.peak_mb = 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        own = Path(f"/proc/{os.getpid()}/task")
        while True:
            for children in own.glob("*/children"):
                for pid in children.read_text().split():
                    self.peak_mb = max(self.peak_mb, _peak_mb(pid))
            if self.stopped.wait(self.every):
                return


def _peak_mb(pid: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:  # it exited meanwhile
        return 0.0
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def profiled(path: Path | None, *, gil: bool) -> Iterator[None]:
    """Record this process with py-spy while the block runs, if a path is given."""
    if path is None:
        yield
        return
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    command = [py_spy, "record", "--pid", str(os.getpid()), "--rate", "200", "--threads"]
    command += ["--format", "raw", "--output", str(path), *(["--gil"] if gil else [])]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    # Give py-spy time to attach before the part worth recording starts.
    time.sleep(1.0)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
        print(f"profile of the send phase written to {path}")


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) process `pid` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_s() -> float:
    """CPU seconds every core of the machine has spent busy so far (not idle, not waiting)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS


def children_cpu_s() -> float:
    """CPU seconds used by this process's children that have ended."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
