"""One request on its way through the client's transports: what each layer needs of it and learns.

The client puts a `Passage` in the request's extensions (httpx hands them down every transport)
and makes it the current one while the request and its body are under way, so that the network
layer, which sees no request, knows by when each read must end.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import httpx

EXTENSION = "ghl_contract.passage"


@dataclass
class Passage:
    """A request's state on the way down the transports and back."""

    writes: bool = False  # a request to an operation that writes: it takes a budget slot
    until: float = math.inf  # time.monotonic() by which the current read or write must end
    timeout: float = 0.0  # seconds the current attempt may take, whole (headers and body)
    header_timeout: float = 0.0  # seconds its status line and headers may take
    headers_arrived: bool = False  # the current attempt's headers came; its body is under way
    attempts: int = 0  # attempts sent (429 retries, one retry of a refused connection)
    retries: int = 0  # 429 retries
    gave_up: str | None = None  # why a 429 was not retried

    @staticmethod
    def of(request: httpx.Request) -> Passage:
        """The request's passage; a fresh one for a request the client did not make."""
        passage = request.extensions.get(EXTENSION)
        if not isinstance(passage, Passage):
            passage = Passage()
            request.extensions[EXTENSION] = passage
        return passage

    @contextlib.contextmanager
    def current(self) -> Iterator[Passage]:
        """Make this the passage whose deadline every socket read and write keeps meanwhile."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)


_CURRENT: ContextVar[Passage | None] = ContextVar("ghl_contract_passage", default=None)


def current_until() -> float:
    """By when the current read or write must end (infinity outside a request)."""
    passage = _CURRENT.get()
    return passage.until if passage is not None else math.inf
