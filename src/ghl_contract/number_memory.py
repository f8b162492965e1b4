"""The numbers of the objects created so far: a number given twice in one location is a finding.

A contract run and the proxy each keep one `NumberMemory` for their whole session, and show it
every success body of an operation that creates something: the invoice or estimate number it
carries is remembered with the object's id, and the same number on another object of the same
location is `<object>-number-reused`. Not thread-safe: its owner calls it from one thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghl_contract.findings import Finding, show, value_at
from ghl_contract.operations import Operation
from ghl_contract.rules import finding


class NumberMemory:
    """(location, number) -> the id of the first object seen with that number."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str], str] = {}

    def findings(self, operation: Operation, payload: Any, request: Any) -> list[Finding]:
        """The finding for a number this memory has seen on another object, after remembering
        it; `payload` is the success body, `request` what was sent (its `altId` names the
        location when the body does not)."""
        created = operation.creates
        if created is None or created.number is None:
            return []
        number, object_id = value_at(payload, created.number), value_at(payload, created.id)
        location = value_at(payload, created.location) if created.location else None
        if not isinstance(location, str) and isinstance(request, Mapping):
            location = request.get("altId")
        if not isinstance(number, str | int) or isinstance(number, bool):
            return []  # absent or mistyped: the schema's finding
        first = self._first.setdefault((str(location), str(number)), str(object_id))
        if first == str(object_id):
            return []
        return [finding(
            f"{created.object}-number-reused", created.number,
            f"{created.object.capitalize()} number {show(number)} was given to {created.object} "
            f"{show(object_id)} after "
            f"{created.object} {show(first)} of the same location.", "a new number", number)]
