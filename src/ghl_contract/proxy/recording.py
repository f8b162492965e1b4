"""`--record DIR`: every forwarded exchange, redacted, in the run's HAR format (`check` reads it).

The proxy's exchanges are written by the transport's HAR recorder, so that a recording of a
team's traffic and one of a contract run are the same kind of file. Bodies are recorded as the
judge saw them (content coding undone), as HAR records content; a body larger than the proxy's
bound was not kept and is recorded empty.
"""

from __future__ import annotations

from pathlib import Path

from ghl_contract.findings import Finding
from ghl_contract.proxy.exchange import Forwarded
from ghl_contract.proxy.redaction import Secrets, redact_headers
from ghl_contract.proxy.wire import by_name
from ghl_contract.transport import Exchange
from ghl_contract.transport.recording import HarRecorder


class Recording:
    """The session's HAR file in `directory`; valid after every entry."""

    def __init__(self, directory: Path, upstream: str, secrets: Secrets) -> None:
        self._recorder = HarRecorder(directory)
        self._upstream = upstream.rstrip("/")
        self._secrets = secrets
        self.path = self._recorder.path

    def record(self, forwarded: Forwarded, body: bytes | None, faults: list[Finding]) -> None:
        """One exchange; `body` the answer's body as judged, `faults` the findings about an
        answer that did not come whole (already redacted)."""
        secrets = self._secrets
        known = secrets.known
        self._recorder.record(Exchange(
            method=forwarded.method,
            url=secrets.text(self._upstream + forwarded.target),
            request_headers=redact_headers(by_name(forwarded.request_headers), known),
            request_body=secrets.bytes(forwarded.request_body or b""),
            status=forwarded.status,
            response_headers=redact_headers(by_name(forwarded.response_headers), known),
            response_body=secrets.bytes(body or b""),
            elapsed=forwarded.elapsed,
            faults=tuple(faults),
            write=forwarded.operation is not None and forwarded.operation.writes,
            started_at=forwarded.started_at,
        ))

    def close(self) -> None:
        self._recorder.close()
