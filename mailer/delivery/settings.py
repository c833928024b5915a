"""How a worker claims, sends and retries (its settings, read from the app config), and what
it did."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from typing import Any

from mailer.delivery.queue import RetryPolicy


@dataclass
class WorkerSettings:
    """How a worker claims, sends and retries; built from the app config by the caller."""

    batch_size: int = 500
    lease: timedelta = timedelta(minutes=5)
    poll_seconds: float = 2.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # SMTP connections kept busy at once, and the cap on messages per second (0: none).
    concurrency: int = 1
    send_rate: float = 0.0
    # Messages whose leases are renewed (and subscribers re-checked) together, just before
    # they are handed to the connections.
    chunk_size: int = 250

    def messages_per_chunk(self) -> int:
        """Messages per lease renewal: under a rate cap, no more than go out in half a lease."""
        size = max(1, self.chunk_size)
        if self.send_rate > 0:
            within = int(self.send_rate * self.lease.total_seconds() / 2)
            size = max(1, min(size, within))
        return size

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> WorkerSettings:
        """Read the MAILER_WORKER_*, MAILER_SEND_RATE and MAILER_DELIVERY_* settings."""
        values: dict[str, Any] = {
            "batch_size": int(config["WORKER_BATCH_SIZE"]),
            "lease": timedelta(seconds=int(config["WORKER_LEASE_SECONDS"])),
            "poll_seconds": float(config["WORKER_POLL_SECONDS"]),
            "concurrency": int(config["WORKER_CONCURRENCY"]),
            "chunk_size": int(config["WORKER_CHUNK_SIZE"]),
            "send_rate": float(config["SEND_RATE"]),
            "retry": RetryPolicy(
                max_attempts=int(config["DELIVERY_MAX_ATTEMPTS"]),
                base_seconds=int(config["DELIVERY_RETRY_BASE_SECONDS"]),
                max_seconds=int(config["DELIVERY_RETRY_MAX_SECONDS"]),
            ),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


@dataclass
class WorkerStats:
    """What a worker run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    batches: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retrying {self.retried}, failed {self.failed}, "
            f"cancelled {self.cancelled}"
        )


def worker_name() -> str:
    """A name that is unique across machines and processes, recorded on each lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
