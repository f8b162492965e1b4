"""What a reader yields: a payload to check, an input problem, or a note for the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Payload:
    """One payload and where it came from (``file.ndjson:12``, ``run.har#entry 3 response``)."""

    data: Any  # the parsed payload; None when `raw` holds a body as it travelled
    kind: str  # a key of registry.KINDS
    source: str
    status: int | None = None  # the HTTP status of a response body
    raw: bytes | None = None  # an HTTP body as recorded (HAR): the checker parses and judges it
    content_type: str | None = None  # the recorded Content-Type of `raw`
    request: Any = None  # the request body sent, for the exchange invariants of a 200 body
    estimate_id: str | None = None  # the estimate id of the request's path


@dataclass(frozen=True, slots=True)
class Problem:
    """Input that could not be read: one sentence naming the file and line or entry."""

    message: str


@dataclass(frozen=True, slots=True)
class Note:
    """A plain fact about the input, e.g. HAR entries of other operations that were skipped."""

    message: str


Item = Payload | Problem | Note
