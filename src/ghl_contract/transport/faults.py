"""Transport faults as findings: an exchange the transport could not complete -> rule, status.

Only what the transport itself sees is judged here: no answer, an answer cut short or
undecodable, still 429 after the retries. A body that arrived whole is the judge's
(`ghl_contract.judge`), in a run as in `check`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from ghl_contract.findings import Finding
from ghl_contract.rules import severity

# Headers a trace id may come in; HighLevel's error bodies carry `traceId` at the top level.
TRACE_HEADERS = ("traceid", "trace-id", "x-trace-id", "x-traceid")
_TRACE_IN_TEXT = re.compile(rb'"traceId"\s*:\s*"([^"\\]{1,200})"')


def finding(rule: str, message: str, *, status: int | None = None, trace_id: str | None = None,
            expected: Any = None, actual: Any = None) -> Finding:
    """A transport finding for the whole exchange (pointer "")."""
    return Finding(pointer="", rule=rule, severity=severity(rule), message=message,
                   expected=expected, actual=actual, status=status, trace_id=trace_id)


def trace_id(headers: Mapping[str, str], body: bytes, parsed: Any = None) -> str | None:
    """HighLevel's traceId from the parsed body, the raw body (cut JSON too) or a trace header."""
    if isinstance(parsed, dict) and isinstance(parsed.get("traceId"), str):
        return str(parsed["traceId"])
    if parsed is None and body:
        match = _TRACE_IN_TEXT.search(body)
        if match:
            return match.group(1).decode("utf-8", "replace")
    for name in TRACE_HEADERS:
        if headers.get(name):
            return headers[name]
    return None


def parse(body: bytes) -> tuple[Any, bool]:
    """(value, True) when the body is JSON, (None, False) otherwise."""
    try:
        return orjson.loads(body), True
    except orjson.JSONDecodeError:
        return None, False


def rate_limited(status: int, headers: Mapping[str, str], body: bytes, *, retries: int,
                 why: str) -> Finding:
    parsed, _ = parse(body)
    return finding("rate-limited", f"Still 429 after {retries} retries: {why}.", status=status,
                   trace_id=trace_id(headers, body, parsed))


# httpx exceptions raised before a byte of the request left: nothing can have been created.
NOT_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout,
                                         httpx.PoolTimeout, httpx.ProxyError,
                                         httpx.UnsupportedProtocol)


def classify_exception(exc: Exception, *, write: bool, sent: bool, status: int | None,
                       timeout: float, cause: str) -> Finding:
    """A request that got no (complete) answer. `sent`: the request may have reached the server.

    A write that may have reached the server and got no status back is `outcome-unknown`, never
    retried: an invoice may exist. Once a status came back the outcome is known and the fault is
    the answer's: a timeout or a connection closed mid-answer, with that status.
    """
    timed_out = isinstance(exc, httpx.TimeoutException | TimeoutError)
    what = (f"no complete answer came within {timeout:g} s" if timed_out
            else f"the connection failed ({cause})")
    if write and sent and status is None:
        return finding("outcome-unknown",
                       f"A write was sent and {what}: an invoice may have been created; look it "
                       "up before voiding or retrying.")
    message = f"{what[0].upper()}{what[1:]}."
    if write and status is not None and 200 <= status < 300:
        message += f" The {status} says an invoice was created; its id could not be read."
    return finding("timeout" if timed_out else "connection-error", message, status=status)
