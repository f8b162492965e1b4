"""Turns schema validation errors into findings: one change, one finding, at its own pointer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs

from ghl_contract.findings import Finding, pointer
from ghl_contract.rules import severity

_JSON_TYPES = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _finding(rule: str, path: list[Any], message: str, expected: Any, actual: Any,
             source: str | None) -> Finding:
    return Finding(pointer(path), rule, severity(rule), message, expected, actual, source)


def _classify(error: jsonschema_rs.ValidationError, source: str | None) -> Iterator[Finding]:
    kind = error.kind
    path = list(error.instance_path)
    at = pointer(path) or "the payload"
    name = type(kind).__name__
    if name == "Required":
        missing = kind.property
        yield _finding("missing-required", [*path, missing],
                       f"Required field {pointer([*path, missing])} is missing.", "present", "absent",
                       source)
    elif name == "AdditionalProperties":
        for extra in kind.unexpected:
            where = pointer([*path, extra])
            yield _finding("property-added", [*path, extra],
                           f"Field {where} is not in the contract.", "absent", "present", source)
    elif name == "Type":
        expected = kind.types if hasattr(kind, "types") else None
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        actual = json_type(error.instance)
        if actual == "null":
            yield _finding("null-not-allowed", path,
                           f"{at} is null, but the contract requires {expected_text}.",
                           expected, actual, source)
        else:
            yield _finding("type-changed", path,
                           f"{at} is {actual}, but the contract requires {expected_text}.",
                           expected, actual, source)
    elif name in ("Enum", "Constant"):
        options = getattr(kind, "options", None)
        if options is None:
            options = [getattr(kind, "expected_value", None)]
        yield _finding("enum-value-unknown", path,
                       f"{at} is {error.instance!r}, which is not one of the documented values.",
                       options, error.instance, source)
    elif name in ("Format", "Pattern"):
        expected = getattr(kind, "format", None) or getattr(kind, "pattern", None)
        yield _finding("format-changed", path,
                       f"{at} is {error.instance!r}, which is not in the documented {expected} "
                       "format.", expected, error.instance, source)
    else:
        yield _finding("constraint-violated", path, f"{at}: {error.message}.",
                       list(error.schema_path), error.instance, source)


def schema_findings(validator: jsonschema_rs.Validator, payload: Any,
                    source: str | None = None) -> list[Finding]:
    """Every difference between `payload` and the schema behind `validator`, one per change."""
    if validator.is_valid(payload):
        return []
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for error in validator.iter_errors(payload):
        for finding in _classify(error, source):
            key = (finding.pointer, finding.rule)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return sorted(findings, key=lambda f: f.pointer)
