"""Composing the next part of a claimed batch while the worker sends the current one.

The SMTP connections wait for the server's replies most of the time; composing a part on a
thread of its own meanwhile keeps them busy, instead of leaving them idle while the worker
composes. Only what the worker has already claimed is composed ahead, so a worker that dies
holds no more leases than before. The thread reads in a read-only transaction of its own (on
SQLite it takes no write lock) and writes nothing: the worker settles what it gives back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import Flask
from flask import current_app

from mailer.database import again_if_disconnected
from mailer.database import read_only
from mailer.delivery.preparing import Preparation
from mailer.delivery.preparing import Prepared
from mailer.delivery.preparing import Preparer
from mailer.extensions import db


class Ahead:
    """One part of a batch, being composed on the composing thread."""

    def __init__(self, ids: Sequence[int], future: Future[list[Preparation]]) -> None:
        self.ids = list(ids)
        self.future = future

    def result(self) -> list[Preparation]:
        """What was composed (waits for it); raises what composing raised."""
        return self.future.result()


@dataclass
class Remaining:
    """What a batch holds after the chunk at hand: composed and not yet sent (`pending`), the
    part being composed (`following`) and the parts still to compose (`parts`, ids)."""

    pending: list[Prepared]
    parts: deque[Sequence[int]]
    following: Ahead | None = None

    def __bool__(self) -> bool:
        return bool(self.pending) or self.following is not None

    def ids(self) -> list[int]:
        """The ids of all of it."""
        return [item.delivery_id for item in self.pending] + self.uncomposed_ids()

    def uncomposed_ids(self) -> list[int]:
        """The ids of the parts being or still to be composed."""
        ids = list(self.following.ids) if self.following is not None else []
        return ids + [delivery_id for part in self.parts for delivery_id in part]


class AheadComposer:
    """A thread that composes parts of a batch with the worker's Preparer; made inside an app
    context (the thread opens one of its own on the same app, with its own session)."""

    def __init__(self, preparer: Preparer) -> None:
        self.preparer = preparer
        self.app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, ids: Sequence[int]) -> Ahead:
        """Start composing `ids` (a part of a batch the worker holds)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="compose")
        return Ahead(ids, self._executor.submit(self._compose, list(ids)))

    def shutdown(self) -> None:
        """Stop the thread (after what it is composing)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _compose(self, ids: list[int]) -> list[Preparation]:
        with self.app.app_context():
            try:
                return again_if_disconnected(lambda: self._read(ids), what="composing ahead")
            finally:
                db.session.remove()

    def _read(self, ids: list[int]) -> list[Preparation]:
        with read_only():
            return self.preparer.prepare(ids)
