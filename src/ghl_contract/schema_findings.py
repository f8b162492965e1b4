"""Turns schema validation errors into findings: one change, one finding, at its own pointer.

jsonschema-rs reports each failed keyword. Most map to one rule directly; the composite ones
(``anyOf``, ``oneOf``) carry the errors of every alternative, and reporting those would describe
alternatives the payload never meant to follow. So a composite failure yields the findings of
the one alternative closest to the payload (the fewest findings among those whose type matches),
or one type finding when the value's type matches no alternative at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import jsonschema_rs

from ghl_contract.bounds import depth_bounded
from ghl_contract.findings import SHOWN, Finding, pointer, show
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

# The rules this module can produce: the schema section of ghl_contract.rules.
RULES = (
    "missing-required", "type-changed", "null-not-allowed", "enum-value-unknown",
    "format-changed", "constraint-violated", "property-added", "nesting-too-deep",
)

def json_type(value: Any) -> str:
    """The JSON Schema type of a value: 1.0 is an integer, as JSON Schema counts."""
    if isinstance(value, float) and value.is_integer():
        return "integer"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _finding(rule: str, path: Sequence[Any], message: str, expected: Any, actual: Any,
             source: str | None) -> Finding:
    return Finding(pointer(path), rule, severity(rule), message, expected, actual, source)


def _where(path: Sequence[Any]) -> str:
    return pointer(path) or "The payload"


def _one_of(options: Sequence[Any]) -> str:
    shown = ", ".join(show(option) for option in options)
    return shown if len(shown) <= 2 * SHOWN else shown[: 2 * SHOWN - 1] + "…"


def _type_finding(path: Sequence[Any], instance: Any, types: Sequence[str],
                  source: str | None) -> Finding:
    expected = list(types)
    wanted = " or ".join(expected)
    actual = json_type(instance)
    rule = "null-not-allowed" if actual == "null" else "type-changed"
    return _finding(rule, path, f"{_where(path)} is {actual}, but the contract requires {wanted}.",
                    expected, actual, source)


_K = jsonschema_rs.ValidationErrorKind


def _classify(error: jsonschema_rs.ValidationError, source: str | None) -> Iterator[Finding]:
    kind = error.kind
    path = list(error.instance_path)
    if isinstance(kind, _K.Required):
        missing = [*path, kind.property]
        yield _finding("missing-required", missing,
                       f"Required field {pointer(missing)} is missing.", "present", "absent",
                       source)
    elif isinstance(kind, _K.AdditionalProperties | _K.UnevaluatedProperties):
        for extra in kind.unexpected:
            added = [*path, extra]
            yield _finding("property-added", added,
                           f"Field {pointer(added)} is not in the contract.", "absent", "present",
                           source)
    elif isinstance(kind, _K.FalseSchema) and path and isinstance(path[-1], str):
        # `properties: {name: false}`: the contract says this field is not there
        yield _finding("property-added", path, f"Field {pointer(path)} is not in the contract.",
                       "absent", "present", source)
    elif isinstance(kind, _K.Type):
        yield _type_finding(path, error.instance, kind.types, source)
    elif isinstance(kind, _K.Enum | _K.Constant):
        options = list(kind.options) if isinstance(kind, _K.Enum) else [kind.expected_value]
        yield _finding("enum-value-unknown", path,
                       f"{_where(path)} is {show(error.instance)}, which is not one of the "
                       f"documented values ({_one_of(options)}).", options, error.instance, source)
    elif isinstance(kind, _K.Format):
        yield _finding("format-changed", path,
                       f"{_where(path)} is {show(error.instance)}, which is not in the documented "
                       f"{kind.format} format.", kind.format, error.instance, source)
    elif isinstance(kind, _K.Pattern):
        yield _finding("format-changed", path,
                       f"{_where(path)} is {show(error.instance)}, which does not match the "
                       f"documented pattern {kind.pattern}.", kind.pattern, error.instance, source)
    elif isinstance(kind, _K.AnyOf | _K.OneOfNotValid):
        yield from _closest_alternative(kind.context, error.instance, path, source)
    else:
        yield _finding("constraint-violated", path, f"{_where(path)}: {error.message}.",
                       "/".join(str(part) for part in error.schema_path), error.instance, source)


def _closest_alternative(alternatives: list[list[jsonschema_rs.ValidationError]], instance: Any,
                         path: list[Any], source: str | None) -> Iterator[Finding]:
    """The findings of the one alternative of `anyOf`/`oneOf` the value comes closest to."""
    fitting: list[list[Finding]] = []
    types: list[str] = []
    for alternative in alternatives:
        wrong_type = [e.kind for e in alternative
                      if isinstance(e.kind, _K.Type) and list(e.instance_path) == path]
        if wrong_type:
            types.extend(t for k in wrong_type if isinstance(k, _K.Type) for t in k.types
                         if t not in types)
        else:
            fitting.append(_unique(f for e in alternative for f in _classify(e, source)))
    if not fitting:
        yield _type_finding(path, instance, types, source)
        return
    here = pointer(path)
    if all(len(found) == 1 and found[0].rule == "enum-value-unknown" and found[0].pointer == here
           for found in fitting):
        # `anyOf: [{const: a}, {const: b}]` is an enum written long-hand: one finding, all values
        options = [option for found in fitting for option in found[0].expected]
        yield _finding("enum-value-unknown", path,
                       f"{_where(path)} is {show(instance)}, which is not one of the "
                       f"documented values ({_one_of(options)}).", options, instance, source)
        return
    yield from min(fitting, key=len)


def _unique(findings: Iterator[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.pointer, finding.rule)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _order(finding: Finding) -> tuple[tuple[int, int, str], ...]:
    # array indices in numeric order: /items/2 before /items/10
    return tuple((0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part)
                 for part in finding.pointer.split("/"))


def schema_findings(validator: jsonschema_rs.Validator, payload: Any,
                    source: str | None = None) -> list[Finding]:
    """Every difference between `payload` and the schema behind `validator`, one per change."""
    if validator.is_valid(payload):
        return []
    return depth_bounded(lambda value: _findings(validator, value, source), payload, source)


def _findings(validator: jsonschema_rs.Validator, payload: Any,
              source: str | None) -> list[Finding]:
    found = _unique(f for error in validator.iter_errors(payload) for f in _classify(error, source))
    return sorted(_without_consequences(found), key=_order)


_TYPE_RULES = ("type-changed", "null-not-allowed")


def _without_consequences(found: list[Finding]) -> list[Finding]:
    """A value of another type also fails its field's enum, format or bounds: one change, and
    the type finding is the one that names it."""
    retyped = {f.pointer for f in found if f.rule in _TYPE_RULES}
    return [f for f in found if f.pointer not in retyped or f.rule in _TYPE_RULES]
