"""Several long-lived SMTP connections kept busy at once, under one rate cap."""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Generic
from typing import TypeVar

from mailer.delivery.compose import Outgoing
from mailer.delivery.smtp import Connection
from mailer.delivery.smtp import ConnectionFailure
from mailer.delivery.smtp import DeliveryError
from mailer.delivery.smtp import SmtpSettings

T = TypeVar("T")


class TokenBucket:
    """At most `rate` acquisitions per second on average, bursts of up to `burst`; shared
    by threads. A caller that is early waits for its turn (a reservation), so the order of
    callers is kept and nothing is dropped."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 10)
        self.clock = clock
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; return how many seconds the caller must wait before using it."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> None:
        """Wait until one more message may go."""
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)


@dataclass
class Result(Generic[T]):
    """How one send went: no error means the server accepted it."""

    item: T
    error: DeliveryError | None


class _Reporter(Generic[T]):
    """Hands `progress` the results that came in since its last call, at most every `every`
    seconds; called on the thread that owns it."""

    def __init__(
        self,
        results: list[Result[T]],
        progress: Callable[[Sequence[Result[T]]], None] | None,
        every: float,
    ) -> None:
        self.results = results
        self.progress = progress
        self.every = every
        self.reported = 0
        self.last = time.monotonic()

    def __call__(self, force: bool = False) -> None:
        if self.progress is None or not (force or time.monotonic() - self.last >= self.every):
            return
        upto = len(self.results)
        if upto > self.reported:
            self.progress(self.results[self.reported : upto])
        self.reported, self.last = upto, time.monotonic()


class Flight(Generic[T]):
    """Messages on their way over the pool's connections."""

    def __init__(
        self,
        pending: deque[T],
        results: list[Result[T]],
        stop: threading.Event,
        futures: list[Future[None]],
    ) -> None:
        self._pending = pending
        self._results = results
        self._stop = stop
        self._futures = futures

    def land(
        self,
        progress: Callable[[Sequence[Result[T]]], None] | None = None,
        *,
        every: float = 0.25,
    ) -> tuple[list[Result[T]], list[T]]:
        """Wait until every message was tried or left untried (after the deadline, or once the
        server could not be reached); return the results and the untried. `progress` is called
        on this thread, about every `every` seconds, with the results that came in since its
        last call."""
        report = _Reporter(self._results, progress, every)
        while not all(future.done() for future in self._futures):
            wait(self._futures, timeout=every)
            report()
        for future in self._futures:
            future.result()
        return self._results, list(self._pending)

    def cancel(self) -> None:
        """Start no more messages; those on the wire finish."""
        self._stop.set()

    def settle(self) -> list[Result[T]]:
        """Wait for the threads and return the results so far, whatever a thread raised."""
        wait(self._futures)
        return list(self._results)


class SenderPool:
    """K threads, each with its own reused SMTP connection, draining a list of messages.

    If a connection cannot be opened, the pool stops taking new messages: what was not tried
    is returned untried, so it can wait without using up its attempts.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        size: int = 1,
        rate: float = 0.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.size = max(1, size)
        self.bucket = TokenBucket(rate) if rate > 0 else None
        self.tls_context = tls_context
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def sessions_opened(self) -> int:
        """SMTP sessions opened so far, over all connections."""
        return sum(connection.sessions_opened for connection in self._connections)

    def send(
        self,
        items: Sequence[T],
        outgoing: Callable[[T], Outgoing],
        *,
        deadline: float | None = None,
        progress: Callable[[Sequence[Result[T]]], None] | None = None,
        every: float = 0.25,
    ) -> tuple[list[Result[T]], list[T]]:
        """Send the items, starting none after `deadline` (a time.monotonic() value); return
        the results and the items left untried. `progress` is called on the caller's thread,
        about every `every` seconds, with the results that came in since its last call."""
        return self.start(items, outgoing, deadline=deadline).land(progress, every=every)

    def start(
        self,
        items: Sequence[T],
        outgoing: Callable[[T], Outgoing],
        *,
        deadline: float | None = None,
    ) -> Flight[T]:
        """Start sending the items on the pool's threads and return at once: the caller does
        other work meanwhile, then lands the flight for its results."""
        pending = deque(items)
        results: list[Result[T]] = []
        stop = threading.Event()
        workers = min(self.size, len(items))
        executor = self._pool()
        futures = [
            executor.submit(self._drain, pending, results, stop, outgoing, deadline)
            for _ in range(workers)
        ]
        return Flight(pending, results, stop, futures)

    def _drain(
        self,
        pending: deque[T],
        results: list[Result[T]],
        stop: threading.Event,
        outgoing: Callable[[T], Outgoing],
        deadline: float | None,
    ) -> None:
        """One thread's share: send what is pending over this thread's connection."""
        connection = self._connection()
        while not stop.is_set():
            if self.bucket:
                self.bucket.acquire()
            if deadline is not None and time.monotonic() > deadline:
                return
            try:
                item = pending.popleft()
            except IndexError:
                return
            message = outgoing(item)
            try:
                connection.send(message.envelope_from, message.recipient, message.data)
            except ConnectionFailure as error:
                results.append(Result(item, error))
                stop.set()
            except DeliveryError as error:
                results.append(Result(item, error))
            else:
                results.append(Result(item, None))

    def close(self) -> None:
        """End every open SMTP session (between batches, when the threads are idle)."""
        with self._lock:
            for connection in self._connections:
                connection.close()

    def shutdown(self) -> None:
        """Close the sessions and stop the threads."""
        self.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="smtp")
        return self._executor

    def _connection(self) -> Connection:
        """This thread's connection, made on first use."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = Connection(self.settings, tls_context=self.tls_context)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection
