"""One exchange as the proxy forwarded it: what the client sent, what the upstream answered."""

from __future__ import annotations

from dataclasses import dataclass, field

from ghl_contract.operations import Operation
from ghl_contract.proxy.wire import RawHeaders

SHOWN_TARGET = 200  # characters of a request's path and query kept in a finding's source


@dataclass(eq=False)
class Forwarded:
    """Filled in by the forwarder as the exchange goes, then handed to the session to judge.

    A body the proxy did not keep (larger than its bound: forwarded all the same) is None.
    """

    number: int  # the session's count, from 1
    method: str
    path: str  # the raw path, percent-encoding kept
    query: str  # the raw query, without "?"
    operation: Operation | None  # None: no operation of the manifest has this route
    parameters: dict[str, str]  # the operation's path parameters, decoded
    request_headers: RawHeaders  # as forwarded: end-to-end, lower-case names
    request_body: bytes | None
    started_at: float  # wall-clock seconds since the epoch
    status: int | None = None  # None: no answer came
    response_headers: RawHeaders = field(default_factory=list)  # end-to-end, as answered
    response_body: bytes | None = b""  # the bytes as they came, content coding included
    fault: Exception | None = None  # what went wrong on the way to or from the upstream
    elapsed: float = 0.0  # seconds from the request's arrival to the answer's end
    shutdown: bool = False  # cut short by the proxy's own shutdown
    handed: bool = False  # given to the session (set by the session)

    @property
    def target(self) -> str:
        """The path and query as the client asked for them."""
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def source(self) -> str:
        """How a finding names this exchange: ``#12 POST /things/t1/action``."""
        target = self.target
        if len(target) > SHOWN_TARGET:
            target = target[: SHOWN_TARGET - 1] + "…"
        return f"#{self.number} {self.method} {target}"
