"""SMTP sinks for the benches: a server on loopback, in its own process, that only counts.

Postfix's smtp-sink (C) is used when fetch_smtp_sink.sh has unpacked it into bench/.tools or
postfix is installed; otherwise a small aiosmtpd counter (smtp_counter.py), which is slower
and so may be the limit of what a bench can measure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

BENCH = Path(__file__).resolve().parent
TOOLS = BENCH / ".tools"
COUNTER = BENCH / "smtp_counter.py"
KINDS = ("auto", "smtp-sink", "aiosmtpd")


class Sink(Protocol):
    """What a bench needs of a sink."""

    kind: str
    port: int

    def count(self) -> int:
        """Messages accepted so far."""
        ...

    def close(self) -> None:
        """Stop the server."""
        ...


def settled_count(sink: Sink, *, timeout: float = 10.0) -> int:
    """The sink's count once it has stopped moving (every reply has been counted)."""
    deadline = time.monotonic() + timeout
    last = sink.count()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = sink.count()
        if now == last:
            return now
        last = now
    return last


class SmtpSink:
    """Postfix's smtp-sink, started with running counters (-c) written to a file."""

    kind = "smtp-sink"

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.output = workdir / "smtp-sink.out"
        self.errors = workdir / "smtp-sink.err"
        env = dict(os.environ)
        private_libs = binary.parent.parent / "lib" / "postfix"
        if private_libs.is_dir():
            env["LD_LIBRARY_PATH"] = f"{private_libs}:{env.get('LD_LIBRARY_PATH', '')}"
        # smtp-sink refuses to keep super-user rights once its socket is open.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        command = [str(binary), "-c", *user, "127.0.0.1:0", "256"]
        with self.output.open("wb") as out, self.errors.open("wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, env=env)  # noqa: S603
        self.port = self._listening_port()

    def count(self) -> int:
        """The last message counter smtp-sink wrote ("... mesg=N\\r")."""
        with self.output.open("rb") as out:
            out.seek(max(0, out.seek(0, os.SEEK_END) - 256))
            found = re.findall(rb"mesg=(\d+)", out.read())
        return int(found[-1]) if found else 0

    def close(self) -> None:
        """Stop smtp-sink."""
        self.process.terminate()
        self.process.wait(timeout=10)

    def _listening_port(self, timeout: float = 10.0) -> int:
        """The port smtp-sink was given by the OS: its socket's inode in /proc/net/tcp."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                problem = self.errors.read_text(errors="replace").strip()
                raise RuntimeError(f"smtp-sink exited: {problem or self.process.returncode}")
            port = _port_of(self.process.pid)
            if port:
                return port
            time.sleep(0.05)
        self.close()
        raise RuntimeError("smtp-sink did not start listening")


def _port_of(pid: int) -> int | None:
    """The TCP port a process listens on, if any."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        # fields: sl, local address, remote address, state (0A is LISTEN), ..., inode.
        if fields[3] == "0A" and fields[9] in inodes:
            return int(fields[1].rpartition(":")[2], 16)
    return None


class CounterSink:
    """The aiosmtpd counter of smtp_counter.py, asked for its count over a pipe."""

    kind = "aiosmtpd"

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(COUNTER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdin is None or self.process.stdout is None:
            raise RuntimeError("smtp_counter.py was started without pipes")
        self.requests, self.answers = self.process.stdin, self.process.stdout
        first = self.answers.readline()
        if not first.startswith("port "):
            raise RuntimeError(f"smtp_counter.py did not start: {first!r}")
        self.port = int(first.split()[1])
        self.pid = self.process.pid

    def count(self) -> int:
        """Ask the counter for its count."""
        return self.counts()["mesg"]

    def counts(self) -> dict[str, int]:
        """The counter's figures: messages (mesg), distinct recipients (rcpt) and messages to
        a recipient seen before (repeats)."""
        self.requests.write("count\n")
        self.requests.flush()
        line = self.answers.readline().split()
        return {key: int(value) for key, _, value in (field.partition("=") for field in line)}

    def close(self) -> None:
        """Close its standard input, which stops it."""
        self.requests.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def smtp_sink_binary() -> Path | None:
    """smtp-sink unpacked into bench/.tools, else an installed one."""
    unpacked = TOOLS / "usr" / "sbin" / "smtp-sink"
    if unpacked.is_file():
        return unpacked
    installed = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin")
    return Path(installed) if installed else None


@contextmanager
def open_sink(kind: str, workdir: Path) -> Iterator[Sink]:
    """Start a sink of `kind` (auto: smtp-sink if it is there and starts, else aiosmtpd)."""
    sink: Sink
    binary = smtp_sink_binary() if kind in ("auto", "smtp-sink") else None
    if kind == "smtp-sink" and binary is None:
        raise RuntimeError("no smtp-sink: run bench/fetch_smtp_sink.sh (or make bench)")
    try:
        sink = SmtpSink(binary, workdir) if binary else CounterSink()
    except RuntimeError as error:
        if kind != "auto":
            raise
        print(f"smtp-sink could not start ({error}); using the aiosmtpd counter")
        sink = CounterSink()
    try:
        yield sink
    finally:
        sink.close()
