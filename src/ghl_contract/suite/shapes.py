"""Where two answers to the same request differ in shape: for runs comparing two API versions.

The shape of a JSON value is its type at each pointer (an integer and a number count as one
type: a total of 10 or 10.5 is the same field). Values, array lengths and the order of keys are
data, not shape. Each difference is one finding at its pointer, judged from the side of a
consumer moving from the run's version to the compared one: a field that disappears or changes
type is breaking, a new field is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ghl_contract.findings import Finding, pointer
from ghl_contract.rules import severity
from ghl_contract.schema_findings import json_type


def _kind(value: Any) -> str:
    kind = json_type(value)
    return "number" if kind == "integer" else kind


def shape_differences(base: Any, other: Any, *, base_label: str, other_label: str,
                      source: str | None = None) -> list[Finding]:
    """One finding per pointer where `other` differs in shape from `base`."""
    return list(_walk(base, other, [], base_label, other_label, source))


def _walk(base: Any, other: Any, path: list[Any], base_label: str, other_label: str,
          source: str | None) -> Iterator[Finding]:
    at = pointer(path)
    if _kind(base) != _kind(other):
        rule = "version-type-changed"
        yield Finding(at, rule, severity(rule),
                      f"{at or 'The body'} is {_kind(other)} with Version {other_label}, "
                      f"{_kind(base)} with Version {base_label}.",
                      _kind(base), _kind(other), source)
        return
    if isinstance(base, dict):
        for key in base:
            if key not in other:
                rule = "version-field-removed"
                where = pointer([*path, key])
                yield Finding(where, rule, severity(rule),
                              f"{where} is absent with Version {other_label}, present with "
                              f"Version {base_label}.", "present", "absent", source)
            else:
                yield from _walk(base[key], other[key], [*path, key], base_label, other_label,
                                 source)
        for key in other:
            if key not in base:
                rule = "version-field-added"
                where = pointer([*path, key])
                yield Finding(where, rule, severity(rule),
                              f"{where} is new with Version {other_label} (absent with Version "
                              f"{base_label}).", "absent", "present", source)
    elif isinstance(base, list):
        for index, (left, right) in enumerate(zip(base, other, strict=False)):
            yield from _walk(left, right, [*path, index], base_label, other_label, source)
