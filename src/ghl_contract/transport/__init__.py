"""The HTTP client of a contract run: write budget, rate limit, retries, deadlines, faults, HAR.

`Client.send()` posts to the endpoint and returns an `Exchange`; a server's misbehaviour is in
`Exchange.faults` (findings), never raised. It raises `WriteSkipped` when the write budget forbids
a write, and `RunDeadlineExceeded` when the run's deadline has passed.
"""

from __future__ import annotations

from ghl_contract.transport.budget import UNLIMITED, RunDeadlineExceeded, WriteSkipped
from ghl_contract.transport.client import Client, CreatedInvoice, Exchange
from ghl_contract.transport.redact import redact, redact_headers

__all__ = [
    "UNLIMITED",
    "Client",
    "CreatedInvoice",
    "Exchange",
    "RunDeadlineExceeded",
    "WriteSkipped",
    "redact",
    "redact_headers",
]
