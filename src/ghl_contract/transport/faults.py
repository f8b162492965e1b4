"""Transport faults as findings: what the transport itself saw go wrong with an exchange.

No answer, a timeout, a connection that failed, a write whose outcome is unknown, an answer cut
short, over a limit or undecodable, still 429 after the retries. A body that arrived whole is the
judge's (`ghl_contract.judge`), in a run as in `check`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from ghl_contract.findings import Finding
from ghl_contract.rules import severity
from ghl_contract.transport.passage import Passage

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


def rate_limited(status: int, retries: int, why: str) -> Finding:
    return finding("rate-limited", f"Still 429 after {retries} retries: {why}.", status=status)


def over_limit(status: int, why: str) -> Finding:
    return finding("body-too-large", f"The {status} answer was not read whole: {why}.",
                   status=status)


def undecodable(status: int, content_encoding: str | None, why: str) -> Finding:
    return finding("not-json", f"The {status} answer's Content-Encoding {content_encoding} could "
                   f"not be undone: {why}.", status=status)


def no_answer(exc: Exception, passage: Passage, *, sent: bool, status: int | None,
              cause: str) -> Finding:
    """A request that got no (complete) answer. `sent`: the request may have reached the server.

    A write that may have reached the server and got no status back is `outcome-unknown`, never
    retried: it may have created something. Once a status came back the outcome is known and the
    fault is the answer's: a timeout or a connection closed mid-answer, with that status.
    """
    timed_out = isinstance(exc, httpx.TimeoutException | TimeoutError)
    if not timed_out:
        what = f"the connection failed ({cause})"
    elif isinstance(exc, httpx.ConnectTimeout):
        what = f"no connection could be made within {passage.timeout:g} s"
    elif not passage.headers_arrived and passage.header_timeout < passage.timeout:
        what = (f"no status line and headers came within {passage.header_timeout:g} s "
                "(--header-timeout)")
    elif not passage.headers_arrived:
        what = f"no answer came within {passage.timeout:g} s"
    else:
        what = f"the body did not arrive whole within {passage.timeout:g} s"
    if passage.writes and sent and status is None:
        return finding("outcome-unknown",
                       f"A write was sent and {what}: it may have created or changed something; "
                       "look it up before cleaning up or retrying.")
    message = f"{what[0].upper()}{what[1:]}."
    if passage.writes and status is not None and 200 <= status < 300:
        message += f" The {status} says the write succeeded; what it created could not be read."
    return finding("timeout" if timed_out else "connection-error", message, status=status)
