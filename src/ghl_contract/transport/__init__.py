"""The HTTP client of a contract run: deadlines, size limits, write budget, rate limit, faults.

`Client.request(operation, ...)` sends one request of a manifest operation and returns an
`Exchange`; a server's misbehaviour is in `Exchange.faults` (findings), never raised. It raises
`WriteSkipped` when the write budget forbids a write, and `SendingStopped` when nothing more may be
sent (`RunDeadlineExceeded`: the run's deadline; `TargetStopped`: a 429 whose wait the run cannot
honour). `open_client(settings, ...)` builds a run's client and its HAR recording.
"""

from __future__ import annotations

from ghl_contract.transport.budget import UNLIMITED, WriteBudget
from ghl_contract.transport.client import Client, ExchangeHook
from ghl_contract.transport.exchange import NO_BODY, Exchange
from ghl_contract.transport.factory import open_client
from ghl_contract.transport.limits import Limits
from ghl_contract.transport.refusals import (
    RunDeadlineExceeded,
    SendingStopped,
    TargetStopped,
    WriteSkipped,
)

__all__ = [
    "NO_BODY",
    "UNLIMITED",
    "Client",
    "Exchange",
    "ExchangeHook",
    "Limits",
    "RunDeadlineExceeded",
    "SendingStopped",
    "TargetStopped",
    "WriteBudget",
    "WriteSkipped",
    "open_client",
]
