"""The one judge: what is wrong with a payload, or with an answer as it travelled.

`check`, a contract run and the proxy all call it, so the same answer gets the same findings and
the same sentences everywhere. For an answer it applies, in order: the status (a 5xx, or one the
sender did not expect), the body as it travelled (empty, not JSON, cut short, under another
Content-Type), the schema of the operation's response for that status (strict: an added field is a
non-breaking finding), the invariants of the objects the body holds and, when what was sent is
known, those of the exchange; then the rate-limit headers of a write's success. Every finding is
made once and stamped once with its operation, status, traceId and source.

Speed: a valid payload costs one `is_valid` call of jsonschema-rs and the invariants' float
shortcut; only an invalid payload takes the precise path that locates and classifies each change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

from ghl_contract.findings import Finding, pointer_within
from ghl_contract.invariants import Facts, body_reads, check_all, locate
from ghl_contract.operations import Operation
from ghl_contract.registry import ContractRegistry, pinned
from ghl_contract.rules import finding
from ghl_contract.schema_findings import schema_findings

NOT_JSON: Any = object()  # what body_faults gives for a body that has no JSON value
_JSON_MEDIA = re.compile(r"^\s*application/([\w.+-]+\+)?json\s*(;|$)", re.IGNORECASE)
_NO_BODY_STATUSES = frozenset({204, 205, 304})
# Headers a trace id may come in; HighLevel's error bodies carry `traceId` at the top level.
TRACE_HEADERS = ("traceid", "trace-id", "x-trace-id", "x-traceid")
_TRACE_IN_TEXT = re.compile(rb'"traceId"\s*:\s*"([^"\\]{1,200})"')
# HighLevel's gateway headers, lower case (the transport keeps response headers so).
RATE_LIMIT_HEADERS = (
    "x-ratelimit-limit-daily",
    "x-ratelimit-daily-remaining",
    "x-ratelimit-interval-milliseconds",
    "x-ratelimit-max",
    "x-ratelimit-remaining",
)
MESSAGE_SHOWN = 160  # characters of a server's own message kept in a finding


@dataclass(frozen=True)
class Expect:
    """The statuses a sender expects for one kind of request, and how a message names them."""

    statuses: frozenset[int]
    label: str

    def __contains__(self, status: object) -> bool:
        return status in self.statuses


def expect(statuses: Iterable[int]) -> Expect:
    """An expectation from a list of statuses (as data files give them)."""
    chosen = sorted(set(statuses))
    label = " or ".join(str(s) for s in chosen) if len(chosen) < 3 else \
        ", ".join(str(s) for s in chosen[:-1]) + f" or {chosen[-1]}"
    return Expect(frozenset(chosen), label)


def is_json_media_type(content_type: str) -> bool:
    """application/json, or an application/...+json type, with or without parameters."""
    return _JSON_MEDIA.match(content_type) is not None


# --- a bare payload ----------------------------------------------------------------------------

def check_payload(payload: Any, kind: str = "response", *, operation: Operation | None = None,
                  status: int | None = None, source: str | None = None,
                  registry: ContractRegistry | None = None) -> list[Finding]:
    """Every finding for one parsed payload of `kind` (request, response, error, or a schema of
    the contract by name) of `operation` (default: the manifest's primary one)."""
    registry = registry or pinned()
    operation = operation or registry.manifest.primary
    name = registry.payload_schema(kind, operation, status)
    findings = _schema_and_invariants(registry, operation, name, payload,
                                      payload_objects(operation, kind, status), None)
    return _stamped(findings, operation, status, _trace(payload, kind, status), source)


def payload_objects(operation: Operation, kind: str, status: int | None) -> Mapping[str, str]:
    """Where a `kind` body of `operation` holds the objects the invariants know."""
    if kind != "response":
        return {}
    response = operation.responses.get(status) if status else operation.success
    return response.objects if response is not None and response.success else {}


def _schema_and_invariants(registry: ContractRegistry, operation: Operation, name: str,
                           payload: Any, objects: Mapping[str, str],
                           sent: Facts | None) -> list[Finding]:
    validator = registry.validator(name, strict=True)
    valid = validator.is_valid(payload)
    findings = [] if valid else schema_findings(validator, payload)
    if not objects:
        return findings
    found = locate(payload, objects)
    if not found:
        return findings
    facts = Facts(found, sent.request, sent.path, sent.creates) if sent else Facts(found)
    checked = check_all(facts, exchange=sent is not None)
    if checked and not valid:
        checked = unverifiable_dropped(checked, findings, body_reads(objects))
    return findings + checked


def unverifiable_dropped(invariant_findings: list[Finding], schema: list[Finding],
                         reads: Mapping[str, tuple[str, ...]]) -> list[Finding]:
    """The invariant findings whose inputs no breaking schema finding already covers.

    An invoice item whose amount became the string "1000" is one change: the type finding says
    it all, and the total that no longer adds up is a consequence, not a second change.
    """
    covered = [f.pointer for f in schema if f.breaking]
    if not covered:
        return invariant_findings
    return [f for f in invariant_findings
            if not any(pointer_within(at, pattern)
                       for at in covered for pattern in reads.get(f.rule, ()))]


# --- an answer as it travelled --------------------------------------------------------------------

def check_body(body: bytes | str | None, kind: str = "response", *,
               operation: Operation | None = None, status: int | None = None,
               content_type: str | None = None, headers: Mapping[str, str] | None = None,
               request: Any = None, path: Mapping[str, str] | None = None,
               expect: Expect | None = None, source: str | None = None,
               registry: ContractRegistry | None = None) -> list[Finding]:
    """Every finding for one HTTP body as it travelled (a response when `status` is given).

    `content_type` None means the type is not known (a file read by `check`); `headers` (lower
    case names) when the response's are known. `request` (the JSON body or query sent) and `path`
    (the path parameters) make the exchange invariants apply. `expect`: the statuses the sender
    expected; None judges by what the operation documents (a 1xx-3xx other than its success is
    unexpected, an undocumented 4xx is judged by the shape all errors share).
    """
    registry = registry or pinned()
    operation = operation or registry.manifest.primary
    text = body.encode() if isinstance(body, str) else body or b""
    found: list[Finding] = []
    if status is not None:
        verdict = _status(operation, status, expect, text)
        found.extend(verdict)
        if verdict and (status >= 500 or (expect is None and status < 400)):
            # The body of a 5xx, a redirect or an informational answer is not the contract's.
            return _stamped(found, operation, status, _trace_of(headers, text), source)
        if not text.strip() and status in _NO_BODY_STATUSES:
            return _stamped(found, operation, status, None, source)
    faults, payload = body_faults(text, content_type)
    found.extend(faults)
    if payload is not NOT_JSON:
        if status is not None:
            kind = "response" if operation.documents(status) and 200 <= status < 300 else \
                "error" if status >= 400 else kind
        name = registry.payload_schema(kind, operation, status)
        sent = None
        if request is not None or path is not None:
            sent = Facts({}, request if isinstance(request, Mapping) else None, path,
                         operation.creates.object if operation.creates else None)
        found.extend(_schema_and_invariants(registry, operation, name, payload,
                                            payload_objects(operation, kind, status), sent))
    if (headers is not None and operation.writes and status is not None
            and 200 <= status < 300):
        found.extend(rate_limit_findings(headers))
    trace = _trace_of(headers, text, payload)
    return _stamped(found, operation, status, trace, source)


def check_parameters(operation: Operation, *, path: Mapping[str, str],
                     query: Mapping[str, str], headers: Mapping[str, str] | None,
                     source: str | None = None,
                     registry: ContractRegistry | None = None) -> list[Finding]:
    """Every finding for a request's parameters against `operation`'s: path, query and header
    values (`headers` by lower-case name, matched to the documented names; None when they were
    not recorded, and then not judged), at ``/path/<name>``, ``/query/<name>`` and
    ``/header/<name>``. Parameters the operation does not document are not findings: a client
    may send more than the contract names."""
    registry = registry or pinned()
    values: dict[str, dict[str, str]] = {"path": dict(path), "query": dict(query)}
    if headers is not None:
        values["header"] = {parameter.name: headers[parameter.name.lower()]
                            for parameter in operation.in_("header")
                            if parameter.name.lower() in headers}
    found = schema_findings(registry.request_parameters_validator(operation), values, source)
    return _stamped(found, operation, None, None, source)


def _status(operation: Operation, status: int, expected: Expect | None,
            body: bytes) -> list[Finding]:
    """A 5xx, or a status the sender did not expect: one finding with the server's message."""
    said = server_message(body)
    told = f": {said}" if said else ""
    if status >= 500:
        return [replace(finding("server-error", "", f"The server answered {status}{told}.",
                                None, status), server_message=said)]
    if expected is None:
        if status >= 400 or status == operation.success.status:
            return []
        documented = " or ".join(str(s) for s in sorted(operation.responses))
        expected = Expect(frozenset(operation.responses), documented)
    if status in expected:
        return []
    # A request meant to be refused that is refused with another 4xx than the one that fits:
    # refused all the same, so not breaking; a 2xx (or a 3xx) to it is.
    refused = all(400 <= s < 500 for s in expected.statuses) and 400 <= status < 500
    rule = "other-refusal" if refused else "unexpected-status"
    return [replace(finding(rule, "",
                            f"The server answered {status} where the contract documents "
                            f"{expected.label}{told}.", sorted(expected.statuses), status),
                    server_message=said)]


def server_message(body: bytes) -> str | None:
    """The server's own `message` from a JSON error body (a list joined), shortened."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    message = parsed.get("message") if isinstance(parsed, dict) else None
    if isinstance(message, list):
        message = "; ".join(str(part) for part in message)
    if not isinstance(message, str) or not message.strip():
        return None
    text = " ".join(message.split())
    return text if len(text) <= MESSAGE_SHOWN else text[: MESSAGE_SHOWN - 1] + "…"


def body_faults(body: bytes, content_type: str | None) -> tuple[list[Finding], Any]:
    """The one judgement of a body as it travelled.

    An empty body, one that is not JSON, or JSON cut short is one finding, and the payload is
    NOT_JSON. A JSON body is parsed; under a Content-Type that is not JSON (`""`: the header is
    absent) it is also a wrong-content-type finding. None means the type is not known (a file
    read by `check`): nothing to say about it.
    """
    if not body.strip():
        return [finding("empty-body", "", "The body is empty, but the contract documents one.",
                        "JSON", "empty")], NOT_JSON
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if _cut_short(body, exc):
            return [finding("truncated-json", "",
                            f"The body is JSON cut short after {len(body)} bytes.", "JSON",
                            exc.msg)], NOT_JSON
        return [finding("not-json", "",
                        f"The body is not JSON ({exc.msg} at character {exc.pos}): "
                        f"{_start(body)}.", "JSON", content_type or "unknown")], NOT_JSON
    if content_type is None or is_json_media_type(content_type):
        return [], payload
    shown = repr(content_type) if content_type else "absent"
    return [finding("wrong-content-type", "",
                    f"The Content-Type is {shown}, not application/json, for a JSON body.",
                    "application/json", content_type)], payload


def _cut_short(body: bytes, error: orjson.JSONDecodeError) -> bool:
    """JSON that ran out of input (a character cut in the middle of its bytes too)."""
    if error.msg.startswith("unexpected end of data"):
        return True
    try:
        orjson.loads(body.decode("utf-8", "ignore"))
    except orjson.JSONDecodeError as again:
        return again.msg.startswith("unexpected end of data")
    return False


def _start(text: bytes) -> str:
    head = text.strip()[:40].decode("utf-8", "replace")
    head = " ".join(head.split())
    return repr(head + ("…" if len(text.strip()) > 40 else ""))


def rate_limit_findings(headers: Mapping[str, str]) -> list[Finding]:
    """One non-breaking finding naming HighLevel's X-RateLimit-* headers a response lacks."""
    missing = [name for name in RATE_LIMIT_HEADERS if name not in headers]
    if not missing:
        return []
    shown = ", ".join(_display(name) for name in missing)
    return [finding("rate-limit-headers-missing", "",
                    f"The response lacks the rate-limit header(s) {shown}.",
                    [_display(n) for n in RATE_LIMIT_HEADERS], [_display(n) for n in missing])]


def _display(name: str) -> str:
    return "-".join("X" if part == "x" else part.capitalize().replace("Ratelimit", "RateLimit")
                    for part in name.split("-"))


# --- stamping ------------------------------------------------------------------------------------

def _trace(payload: Any, kind: str, status: int | None) -> str | None:
    """HighLevel's traceId of an error body."""
    if kind != "error" and not (status and status >= 400):
        return None
    trace = payload.get("traceId") if isinstance(payload, dict) else None
    return trace if isinstance(trace, str) else None


def _trace_of(headers: Mapping[str, str] | None, body: bytes, parsed: Any = NOT_JSON
              ) -> str | None:
    """HighLevel's traceId from the parsed body, the raw body (cut JSON too) or a trace header."""
    if isinstance(parsed, dict) and isinstance(parsed.get("traceId"), str):
        return str(parsed["traceId"])
    if parsed is NOT_JSON and body:
        match = _TRACE_IN_TEXT.search(body)
        if match:
            return match.group(1).decode("utf-8", "replace")
    for name in TRACE_HEADERS:
        if headers and headers.get(name):
            return headers[name]
    return None


def _stamped(findings: list[Finding], operation: Operation, status: int | None,
             trace: str | None, source: str | None) -> list[Finding]:
    """The findings with what they are about: operation, HTTP status, traceId, source."""
    return [replace(f, operation=operation.id, status=status, trace_id=trace,
                    source=f.source or source) for f in findings]
