"""How the proxy judges one exchange of a known operation: exactly as a run and `check` do.

The request's parameters (path, query, headers, at `/query/altId`...) and body against the
operation's request contract; an upstream that gave no (complete) answer as the transport's
fault; otherwise the answer through the one judge (status, body as it
travelled, the status's schema, invariants with what was sent, rate-limit headers) and the
session's memory of created numbers. No status is "expected": the proxy does not know what the
application meant, so the answer is judged by what the operation documents.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

import orjson

from ghl_contract.findings import Finding
from ghl_contract.judge import check_body, check_parameters
from ghl_contract.number_memory import NumberMemory
from ghl_contract.operations import Operation
from ghl_contract.proxy.exchange import Forwarded
from ghl_contract.proxy.wire import TooLarge, UnknownCoding, by_name, decoded, header
from ghl_contract.rules import finding
from ghl_contract.transport.budget import NOT_SENT
from ghl_contract.transport.faults import no_answer
from ghl_contract.transport.passage import Passage


@dataclass(frozen=True)
class Verdict:
    """The findings of one exchange, those about the request apart from those about the answer."""

    request: list[Finding] = field(default_factory=list)
    answer: list[Finding] = field(default_factory=list)
    unjudged: str | None = None  # why the answer was not judged (it was forwarded all the same)
    body: bytes | None = None  # the answer's body as judged: content coding undone

    @property
    def findings(self) -> list[Finding]:
        return self.request + self.answer

    @property
    def breaks_answer(self) -> bool:
        """Whether the upstream's answer broke the contract (what --enforce replaces)."""
        return any(f.breaking for f in self.answer)


class Judge:
    """Judges the exchanges of one session, in order (its number memory is the session's)."""

    def __init__(self, *, timeout: float, max_body: int) -> None:
        self._numbers = NumberMemory()
        self._timeout = timeout
        self._max_body = max_body

    def judge(self, forwarded: Forwarded) -> Verdict:
        operation = forwarded.operation
        if operation is None:
            return Verdict(body=self._plain_body(forwarded))
        request = self._request_findings(forwarded, operation)
        if forwarded.fault is not None:
            return Verdict(request, [self._fault(forwarded, operation)])
        if forwarded.response_body is None:
            return Verdict(request, unjudged=f"larger than {_size(self._max_body)}")
        try:
            body = decoded(forwarded.response_body,
                           header(forwarded.response_headers, b"content-encoding"), self._max_body)
        except TooLarge:
            return Verdict(request, unjudged=f"larger than {_size(self._max_body)} decoded")
        except UnknownCoding as coding:
            return Verdict(request, unjudged=f"content coding {coding} (not gzip or deflate)")
        except zlib.error:
            return Verdict(request, [self._undecodable(forwarded, operation)])
        return Verdict(request, self._answer_findings(forwarded, operation, body), body=body)

    def _plain_body(self, forwarded: Forwarded) -> bytes | None:
        """An unjudged answer's body, decoded when it can be (for the recording)."""
        if forwarded.response_body is None:
            return None
        try:
            return decoded(forwarded.response_body,
                           header(forwarded.response_headers, b"content-encoding"), self._max_body)
        except (TooLarge, UnknownCoding, zlib.error):
            return forwarded.response_body

    def _request_findings(self, forwarded: Forwarded, operation: Operation) -> list[Finding]:
        source = f"{forwarded.source} request"
        found = check_parameters(operation, path=forwarded.parameters,
                                 query=dict(parse_qsl(forwarded.query, keep_blank_values=True)),
                                 headers=by_name(forwarded.request_headers), source=source)
        if operation.request is None or forwarded.request_body is None:
            return found
        return found + check_body(
            forwarded.request_body, "request", operation=operation,
            content_type=header(forwarded.request_headers, b"content-type") or "", source=source)

    def _fault(self, forwarded: Forwarded, operation: Operation) -> Finding:
        fault = forwarded.fault
        assert fault is not None
        cause = str(fault) or type(fault).__name__
        # A fault raised before a byte left (refused, no pool slot) cannot have reached the
        # upstream; any other may have, and a write's outcome is then unknown.
        sent = not isinstance(fault, NOT_SENT)
        passage = Passage(writes=operation.writes, timeout=self._timeout,
                          header_timeout=self._timeout,
                          headers_arrived=forwarded.status is not None)
        found = no_answer(fault, passage, sent=sent, status=forwarded.status, cause=cause)
        return replace(found, operation=operation.id, source=f"{forwarded.source} response")

    def _undecodable(self, forwarded: Forwarded, operation: Operation) -> Finding:
        coding = header(forwarded.response_headers, b"content-encoding")
        found = finding("not-json", "", f"The {forwarded.status} answer's Content-Encoding "
                        f"{coding} could not be decoded.", "JSON", coding)
        return replace(found, operation=operation.id, status=forwarded.status,
                       source=f"{forwarded.source} response")

    def _answer_findings(self, forwarded: Forwarded, operation: Operation,
                         body: bytes) -> list[Finding]:
        status = forwarded.status
        assert status is not None  # an exchange without an answer carries its fault
        sent = _sent(forwarded)
        source = f"{forwarded.source} response"
        found = check_body(body, operation=operation, status=status,
                           content_type=header(forwarded.response_headers, b"content-type") or "",
                           headers=by_name(forwarded.response_headers), request=sent,
                           path=forwarded.parameters, source=source)
        if 200 <= status < 300 and operation.creates is not None:
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError:
                return found  # the judge said so already
            found.extend(replace(f, source=source, operation=operation.id, status=status)
                         for f in self._numbers.findings(operation, payload, sent))
        return found


def _sent(forwarded: Forwarded) -> Any:
    """What the request said: its JSON body, or the query of a request without one."""
    body = forwarded.request_body
    if body:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
    return dict(parse_qsl(forwarded.query)) if forwarded.query else None


def _size(count: int) -> str:
    for unit, size in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"
