"""What a reader yields: a payload to check, lines to check, an input problem, or a note."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ghl_contract.settings import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, MAX_VALUES

if TYPE_CHECKING:
    from ghl_contract.judge import Expect
    from ghl_contract.operations import Operation


@dataclass(slots=True)
class Payload:
    """One payload and where it came from (``file.json``, ``run.har#entry 3 response``)."""

    data: Any  # the parsed payload; None when `raw` holds a body as it travelled
    kind: str  # request, response, error, or a schema of the contract by name
    source: str
    status: int | None = None  # the HTTP status of a response body
    raw: bytes | None = None  # an HTTP body as recorded (HAR): the judge parses and judges it
    content_type: str | None = None  # the recorded Content-Type of `raw`
    request: Any = None  # what was sent (JSON body, or query), for the exchange invariants
    path: Mapping[str, str] | None = None  # the request's path parameters
    operation: Operation | None = None  # the operation it belongs to; None: the one checked
    headers: Mapping[str, str] | None = None  # the response's headers (lower case), if recorded
    expect: Expect | None = None  # the statuses the sender expected (a recording says so)


@dataclass(frozen=True, slots=True)
class Parameters:
    """A recorded request's parameters, judged against its operation's (`judge.check_parameters`):
    path, query, and headers (lower-case names; None when the capture has none)."""

    operation: Operation
    source: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str] | None


@dataclass(frozen=True, slots=True)
class Lines:
    """NDJSON lines, one payload each, parsed and checked by the checker in one loop (the hot
    path: no object per payload). Iterating `lines` may raise `InputProblem`."""

    lines: Iterator[bytes]  # raw lines, line breaks included or not; blank ones are skipped
    name: str  # the source, as findings name it with the line number: ``file.ndjson:12``
    start: int  # the number of the first line
    kind: str
    status: int | None = None
    values: int = MAX_VALUES.default  # a line holding more values is a problem, not parsed


@dataclass(frozen=True, slots=True)
class Problem:
    """Input that could not be read: one sentence naming the file and line or entry."""

    message: str


@dataclass(frozen=True, slots=True)
class Note:
    """A plain fact about the input, e.g. HAR entries of other operations that were skipped."""

    message: str


@dataclass(frozen=True)
class Limits:
    """How much of an input is read and parsed at once (see settings.LIMITS): bytes of a line,
    bytes of a document read whole, values of one line, document or body."""

    line: int = MAX_LINE_BYTES.default
    document: int = MAX_DOCUMENT_BYTES.default
    values: int = MAX_VALUES.default


class InputProblem(Exception):
    """Raised while `Lines` are read when the rest cannot be (a line over the limit, a read
    error): its message is the problem, one sentence."""


Item = Payload | Parameters | Lines | Problem | Note
