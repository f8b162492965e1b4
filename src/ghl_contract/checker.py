"""Checks one payload against the contract: schema findings first, then payload invariants.

`check_payload` takes a parsed payload. `check_body` takes an HTTP body as it travelled (a HAR
entry, a recording): the status, the Content-Type, an empty or non-JSON body are findings too,
and a 200 body is checked against the request that produced it.

Speed: a valid payload costs one `is_valid` call of jsonschema-rs and the invariants' float
shortcut; only an invalid payload takes the precise path that locates and classifies each change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson

from ghl_contract.findings import Finding, pointer_within
from ghl_contract.invariants import INPUTS, exchange_findings, response_findings
from ghl_contract.registry import ContractRegistry, error_schema, kind_schema, pinned
from ghl_contract.rules import severity
from ghl_contract.schema_findings import schema_findings

_JSON_MEDIA = re.compile(r"^\s*application/([\w.+-]+\+)?json\s*(;|$)", re.IGNORECASE)


def check_payload(payload: Any, kind: str = "response", *, source: str | None = None,
                  status: int | None = None,
                  registry: ContractRegistry | None = None) -> list[Finding]:
    """Every finding for one payload of `kind`; an error body is checked by its `status`."""
    registry = registry or pinned()
    name = error_schema(status) if kind == "error" and status else kind_schema(kind)
    validator = registry.validator(name, strict=True)
    if validator.is_valid(payload):
        if kind != "response":
            return []
        found = response_findings(payload, source)
        return _stamped(found, payload, kind, status) if found else found
    findings = schema_findings(validator, payload, source)
    if kind == "response":
        findings.extend(without_moot(response_findings(payload, source), findings))
    return _stamped(findings, payload, kind, status)


def check_body(body: bytes | str | None, kind: str = "response", *, source: str | None = None,
               status: int | None = None, content_type: str | None = None,
               request: Any = None, estimate_id: str | None = None,
               registry: ContractRegistry | None = None) -> list[Finding]:
    """Every finding for one HTTP body as it travelled.

    For a response (`status` given), a 5xx is one server-error finding and a status the contract
    does not document (1xx-3xx other than 200) one unexpected-status finding; their bodies are
    not the contract's. An empty body, a body that is not JSON or is JSON cut short is one finding
    each; a JSON body under another Content-Type is a wrong-content-type finding besides its own.
    A 200 body checked with the `request` body and `estimate_id` that produced it is also held to
    the exchange invariants (altId, altType, status draft, estimate id, items).
    """
    if status is not None and (status >= 500 or (status < 400 and status != 200)):
        rule = "server-error" if status >= 500 else "unexpected-status"
        return [Finding("", rule, severity(rule),
                        f"The server answered {status}, which the contract does not document here.",
                        200, status, source, status)]
    text = body.encode() if isinstance(body, str) else body or b""
    findings, payload = body_faults(text, content_type, source=source, status=status)
    if payload is NOT_JSON:
        return findings
    found = check_payload(payload, kind, source=source, status=status, registry=registry)
    findings.extend(found)
    if kind == "response" and isinstance(request, Mapping) and isinstance(estimate_id, str):
        exchange = exchange_findings(request, estimate_id, payload, source)
        findings.extend(_stamped(without_moot(exchange, found), payload, kind, status))
    return findings


NOT_JSON: Any = object()  # what body_faults gives for a body that has no JSON value


def is_json_media_type(content_type: str) -> bool:
    """application/json, or an application/...+json type, with or without parameters."""
    return _JSON_MEDIA.match(content_type) is not None


def body_faults(body: bytes, content_type: str | None, *, source: str | None = None,
                status: int | None = None) -> tuple[list[Finding], Any]:
    """The one judgement of a body as it travelled, for `check` and a run alike.

    An empty body, one that is not JSON, or JSON cut short is one finding, and the payload is
    NOT_JSON. A JSON body is parsed; under a Content-Type that is not JSON (`""`: the header is
    absent) it is also a wrong-content-type finding. None means the type is not known (a file
    read by `check`): nothing to say about it.
    """
    if not body.strip():
        return [_body_finding("empty-body", "The body is empty, but the contract documents one.",
                              "JSON", "empty", source, status)], NOT_JSON
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if _cut_short(body, exc):
            return [_body_finding("truncated-json",
                                  f"The body is JSON cut short after {len(body)} bytes.",
                                  "JSON", exc.msg, source, status)], NOT_JSON
        return [_body_finding("not-json",
                              f"The body is not JSON ({exc.msg} at character {exc.pos}): "
                              f"{_start(body)}.", "JSON", content_type or "unknown", source,
                              status)], NOT_JSON
    if content_type is None or is_json_media_type(content_type):
        return [], payload
    shown = repr(content_type) if content_type else "absent"
    return [_body_finding("wrong-content-type",
                          f"The Content-Type is {shown}, not application/json, for a JSON body.",
                          "application/json", content_type, source, status)], payload


def _cut_short(body: bytes, error: orjson.JSONDecodeError) -> bool:
    """JSON that ran out of input (a character cut in the middle of its bytes too)."""
    if error.msg.startswith("unexpected end of data"):
        return True
    try:
        orjson.loads(body.decode("utf-8", "ignore"))
    except orjson.JSONDecodeError as again:
        return again.msg.startswith("unexpected end of data")
    return False


def without_moot(invariant_findings: list[Finding], schema: list[Finding]) -> list[Finding]:
    """The invariant findings whose inputs no breaking schema finding already covers.

    An invoice item whose amount became the string "1000" is one change: the type finding says
    it all, and the total that no longer adds up is a consequence, not a second change.
    """
    covered = [f.pointer for f in schema if f.breaking]
    if not covered or not invariant_findings:
        return invariant_findings
    return [f for f in invariant_findings
            if not any(pointer_within(at, pattern)
                       for at in covered for pattern in INPUTS.get(f.rule, ()))]


def _stamped(findings: list[Finding], payload: Any, kind: str,
             status: int | None) -> list[Finding]:
    """The findings with the HTTP status and HighLevel's traceId of an error body, when known."""
    trace = payload.get("traceId") if kind == "error" and isinstance(payload, Mapping) else None
    trace = trace if isinstance(trace, str) else None
    if status is None and trace is None:
        return findings
    return [replace(f, status=status, trace_id=trace) for f in findings]


def _body_finding(rule: str, message: str, expected: Any, actual: Any, source: str | None,
                  status: int | None) -> Finding:
    return Finding("", rule, severity(rule), message, expected, actual, source, status)


def _start(text: bytes) -> str:
    head = text.strip()[:40].decode("utf-8", "replace")
    head = " ".join(head.split())
    return repr(head + ("…" if len(text.strip()) > 40 else ""))
