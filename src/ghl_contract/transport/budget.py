"""The write budget: how many requests that can create an invoice a run may still send."""

from __future__ import annotations

import sys
import threading

UNLIMITED = sys.maxsize  # what `remaining()` says for the embedded mock, which has no budget


class WriteSkipped(Exception):
    """Raised instead of sending a write the budget forbids; str(exc) is a sentence for a skip."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunDeadlineExceeded(Exception):
    """The run's deadline (--run-timeout) has passed, or would pass before a request could go."""


class WriteBudget:
    """Live: writes only when allowed, at most `max_writes`. Embedded mock: no limit.

    A slot is reserved before a write is sent and given back only when the write provably did not
    reach the application (connection refused before sending, or a final 429, which HighLevel
    answers without processing the request). Any other answer, even a 4xx, keeps the slot: a
    drifted API could create an invoice and still answer an error.
    """

    def __init__(self, *, live: bool, allow_writes: bool, max_writes: int) -> None:
        self.live, self.allow_writes, self.max_writes = live, allow_writes, max_writes
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    def remaining(self) -> int:
        if not self.live:
            return UNLIMITED
        if not self.allow_writes:
            return 0
        return max(self.max_writes - self._used, 0)

    def refusal(self) -> str | None:
        """Why no write may be sent now (a sentence for a skip), or None when one may."""
        if self.live and not self.allow_writes:
            return ("Skipped: this request would create a real invoice, and writes are off in a "
                    "live run; pass --allow-writes (or GHL_ALLOW_WRITES=1) to allow at most "
                    "--max-writes of them.")
        if self.live and self._used >= self.max_writes:
            return (f"Skipped: the write budget of {self.max_writes} reached; raise --max-writes "
                    "(GHL_MAX_WRITES) to let the run create more invoices.")
        return None

    def reserve(self) -> None:
        """Take a slot for one write, or raise WriteSkipped saying why none is left."""
        with self._lock:
            reason = self.refusal()
            if reason is not None:
                raise WriteSkipped(reason)
            self._used += 1

    def release(self) -> None:
        """Give back a slot whose write provably created nothing."""
        with self._lock:
            self._used = max(self._used - 1, 0)
