"""One request of a run and what came back, secrets redacted; and a curl command that repeats it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from ghl_contract.findings import Finding


class _NoBody:
    """The `body` of a request that sends none (None is JSON's null)."""

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Final = _NoBody()

# Headers a curl command leaves to curl: it computes them, or they describe the connection.
_CURL_OWN = frozenset({"host", "content-length", "connection", "accept-encoding"})
TOKEN_VARIABLE = "GHL_TOKEN"


@dataclass(frozen=True)
class Exchange:
    """One request of the run and what came back, secrets redacted.

    Header mappings look names up in any case (the client gives `httpx.Headers`).
    """

    method: str
    url: str  # with the query string
    request_headers: Mapping[str, str]  # as sent, Authorization redacted
    request_body: bytes
    status: int | None  # None when no answer came (timeout, connection error)
    response_headers: Mapping[str, str]
    response_body: bytes  # decoded (Content-Encoding undone); cut at a limit, see `faults`
    elapsed: float  # seconds, from request() to the answer, waits and retries included
    faults: tuple[Finding, ...]  # what the transport saw go wrong; empty when an answer came whole
    write: bool  # a request to an operation that writes: it took a write budget slot
    trace_id: str | None = None  # HighLevel's traceId from the body or a trace header
    attempts: int = 1  # requests sent for this exchange (429 retries, one refused-connection retry)
    started_at: float = 0.0  # wall-clock time of request(), seconds since the epoch
    operation: str | None = None  # the manifest's operation id
    path: Mapping[str, str] = field(default_factory=dict)  # the path parameters' values
    query: Mapping[str, str] = field(default_factory=dict)
    note: Mapping[str, Any] | None = None  # the caller's annotation ({"expect": [400, 422], ...})
    authorized: bool = False  # the Authorization header carried the run's token

    def json(self) -> Any:
        """The parsed body; only call it when the body is JSON (no fault, or wrong-content-type
        alone)."""
        return orjson.loads(self.response_body)

    def curl(self) -> str:
        """A curl command that sends this request again; the run's token as `$GHL_TOKEN`."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        names = {name.lower() for name in self.request_headers}
        for name, value in self.request_headers.items():
            if name.lower() in _CURL_OWN:
                continue
            if name.lower() == "authorization" and self.authorized:
                # Double quotes: the shell puts the token in, and the command never holds it.
                parts += ["-H", f'"Authorization: Bearer ${TOKEN_VARIABLE}"']
            else:
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        # curl adds these on its own unless told not to; the request went without them.
        if "accept" not in names:
            parts += ["-H", shlex.quote("Accept:")]
        if self.request_body:
            if "content-type" not in names:
                parts += ["-H", shlex.quote("Content-Type:")]
            parts += ["--data-binary", _shell_bytes(self.request_body)]
        return " ".join(parts)


def _shell_bytes(data: bytes) -> str:
    """`data` as one shell word: quoted text, or ANSI-C quoting when it is not printable text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return shlex.quote(text)
    escaped = "".join(chr(b) if 0x20 <= b < 0x7F and chr(b) not in "'\\" else f"\\x{b:02x}"
                      for b in data)
    return f"$'{escaped}'"
