"""The write budget: a hard cap on the write requests a run sends, and the transport that keeps it.

A write is any request to an operation that writes (the manifest's `writes`), whatever its token:
a server that ignores authentication creates objects for the no-token tests too. Every attempt
sent counts, retries included (a 429 after a write may have created it); only a connection that
failed before a byte of the request left gives its slot back.
"""

from __future__ import annotations

import sys
import threading

import httpx

from ghl_contract.transport.passage import Passage
from ghl_contract.transport.refusals import WriteSkipped

UNLIMITED = sys.maxsize  # what `remaining()` says for the embedded mock, which has no budget

# httpx exceptions raised before a byte of the request left: nothing can have been created.
NOT_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout,
                                         httpx.PoolTimeout, httpx.ProxyError,
                                         httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class WriteBudget:
    """Live: writes only when allowed, at most `max_writes`. Embedded mock (`live` False): no
    limit."""

    def __init__(self, *, live: bool = False, allow_writes: bool = False,
                 max_writes: int = 0) -> None:
        self.live, self.allow_writes, self.max_writes = live, allow_writes, max_writes
        self.used = 0  # write requests sent
        self.refused = 0  # writes refused for want of a slot
        self._lock = threading.Lock()

    def remaining(self) -> int:
        if not self.live:
            return UNLIMITED
        if not self.allow_writes:
            return 0
        return max(self.max_writes - self.used, 0)

    def refusal(self) -> str | None:
        """Why no write may be sent now (a sentence for a skip), or None when one may."""
        if self.live and not self.allow_writes:
            return ("Skipped: this request can create or change data (its operation writes), "
                    "and writes are off in a live run; pass --allow-writes (or "
                    "GHL_ALLOW_WRITES=1) to allow at most --max-writes of them.")
        if self.live and self.used >= self.max_writes:
            return (f"Skipped: the write budget of {self.max_writes} reached; raise --max-writes "
                    "(GHL_MAX_WRITES) to let the run send more requests that can create or "
                    "change data.")
        return None

    def reserve(self) -> None:
        """Take a slot for one write request, or raise WriteSkipped saying why none is left."""
        with self._lock:
            reason = self.refusal()
            if reason is not None:
                self.refused += 1
                raise WriteSkipped(reason)
            self.used += 1

    def release(self) -> None:
        """Give back the slot of a write that never left (its connection failed first)."""
        with self._lock:
            self.used = max(self.used - 1, 0)


class BudgetTransport(httpx.BaseTransport):
    """Takes a budget slot for every write attempt before it goes to `inner`."""

    def __init__(self, inner: httpx.BaseTransport, budget: WriteBudget) -> None:
        self.inner, self.budget = inner, budget

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        writes = Passage.of(request).writes
        if writes:
            self.budget.reserve()
        try:
            return self.inner.handle_request(request)
        except NOT_SENT:
            if writes:
                self.budget.release()
            raise

    def close(self) -> None:
        self.inner.close()
