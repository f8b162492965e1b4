"""The only answers the proxy writes itself: a 502 when the upstream gave no complete answer, with
--enforce a 502 in place of an answer that breaks the contract (both list their findings), and a
503 for an exchange still waiting for the upstream when the proxy stops.

The body has the shape of HighLevel's own errors (`statusCode`, `message`, `error`) so that an
application reads it as it reads any other error, plus `findings`; the header `X-Ghl-Contract`
says which of the three it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from ghl_contract.findings import Finding
from ghl_contract.proxy.redaction import Secrets
from ghl_contract.proxy.wire import RawHeaders

ENFORCED = "enforced"
UPSTREAM_FAULT = "upstream-fault"
SHUTDOWN = "shutdown"
_REASONS = {502: "Bad Gateway", 503: "Service Unavailable"}


def bad_gateway(kind: str, message: str, findings: Iterable[Finding], secrets: Secrets, *,
                upstream_status: int | None = None, status: int = 502
                ) -> tuple[RawHeaders, bytes]:
    """The headers and body of one of the proxy's own answers, redacted."""
    payload: dict[str, Any] = {"statusCode": status, "message": message,
                               "error": _REASONS[status]}
    if upstream_status is not None:
        payload["upstreamStatus"] = upstream_status
    payload["findings"] = [secrets.finding(f).to_dict() for f in findings]
    body = secrets.bytes(orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS))
    headers = [(b"content-type", b"application/json; charset=utf-8"),
               (b"content-length", b"%d" % len(body)),
               (b"x-ghl-contract", kind.encode("ascii"))]
    return headers, body
