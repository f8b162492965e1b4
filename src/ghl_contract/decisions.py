"""The recorded decisions (``schemas/decisions/vendor-openapi.json``): where the contract departs
from the vendor's documentation, each with its scope, its choice and its reason.

A decision covers contradictions that `ghl-contract lint-vendor` finds; a note records a choice made
without one. Its scope is one operation's payload (``"operation"`` and ``"payload"``), an object
wherever a success body holds it (``"object": "estimate"``, placed by the manifest's ``objects``),
or the error bodies of some statuses in every operation (``"statuses"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghl_contract import operations as manifest
from ghl_contract.errors import UsageError
from ghl_contract.openapi_source import read_data
from ghl_contract.resources import schemas_dir

KINDS = ("type", "no-properties", "missing-required", "undeclared-property", "enum", "format",
         "constraint")
# The request body, the success body, another status's body, the parameters of one location.
PAYLOAD = re.compile(r"^(request|response|response-[1-5][0-9]{2}|path|query|header)$")
PARAMETER_PAYLOADS = ("path", "query", "header")
_INDEX = re.compile(r"(?<=/)[0-9]+(?=/|$)")


def generalised(at: str) -> str:
    """A payload pointer with its array indices written as ``*``: ``/items/0/name`` ->
    ``/items/*/name``."""
    return _INDEX.sub("*", at)


def payload_label(operation: manifest.Operation, status: int | str) -> str:
    """``response`` for the operation's success status, ``response-NNN`` for another."""
    return "response" if int(status) == operation.success.status else f"response-{status}"


@dataclass(frozen=True)
class Decision:
    """A recorded choice where the contract and the vendor's documentation part ways.

    Its scope is one of: an operation's payload (`operation` and `payload`), an object wherever
    a success body holds it (`object`: estimate, invoice), or the error bodies of `statuses` in
    every operation. `kind` is None for a note: a choice made without a contradiction.
    """

    pointer: str
    kind: str | None
    contract: str
    why: str
    operation: str | None = None
    payload: str | None = None
    object: str | None = None
    statuses: tuple[int, ...] = ()

    @property
    def scope(self) -> str:
        if self.operation is not None:
            return f"{self.operation} {self.payload}"
        if self.object is not None:
            return f"every {self.object}"
        return "error bodies " + ", ".join(str(s) for s in self.statuses)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scope, self.pointer, self.kind or "")

    def places(self, operation: manifest.Operation) -> list[tuple[str, str]]:
        """The (payload, pointer) pairs this decision speaks of in `operation`."""
        if self.operation is not None:
            return [(str(self.payload), self.pointer)] if self.operation == operation.id else []
        if self.object is not None:
            where = operation.success.objects.get(self.object)
            return [] if where is None else [("response", generalised(where) + self.pointer)]
        return [(payload_label(operation, status), self.pointer) for status in self.statuses
                if status in operation.responses and status != operation.success.status]


@dataclass(frozen=True)
class Decisions:
    """The recorded decisions (each covers contradictions) and notes (choices without one)."""

    decisions: tuple[Decision, ...]
    notes: tuple[Decision, ...] = ()

    def covering(self, operation: manifest.Operation, payload: str, at: str,
                 kind: str) -> Decision | None:
        """The decision that covers a contradiction of `kind` at (payload, at)."""
        return next((d for d in self.decisions if d.kind == kind
                     and (payload, at) in d.places(operation)), None)

    def explaining(self, operation: manifest.Operation, payload: str,
                   at: str) -> Decision | None:
        """The decision or note recorded at (payload, at), else a no-properties decision on an
        enclosing object (its choice covers every field below it)."""
        for decision in (*self.decisions, *self.notes):
            if (payload, at) in decision.places(operation):
                return decision
        enclosing = [(len(where), d) for d in self.decisions if d.kind == "no-properties"
                     for place, where in d.places(operation)
                     if place == payload and at.startswith(where + "/")]
        return max(enclosing, key=lambda pair: pair[0], default=(0, None))[1]


def decisions_path() -> Path:
    return schemas_dir() / "decisions" / "vendor-openapi.json"


def load_decisions(path: Path | None = None) -> Decisions:
    """The recorded decisions and notes; a malformed file is a UsageError naming the entry."""
    path = path or decisions_path()
    data = read_data(path, "recorded decisions file")
    if not isinstance(data, Mapping) or not isinstance(data.get("decisions"), list):
        raise UsageError(f"The recorded decisions file {path} has no 'decisions' list.")
    decisions = tuple(_decision(entry, path, index, note=False)
                      for index, entry in enumerate(data["decisions"]))
    notes = tuple(_decision(entry, path, index, note=True)
                  for index, entry in enumerate(data.get("notes") or []))
    seen: set[tuple[str, str, str]] = set()
    for decision in decisions:
        if decision.key in seen:
            raise UsageError(f"The recorded decisions file {path} has two decisions for "
                             f"{decision.pointer or 'the top level'} ({decision.kind}) of "
                             f"{decision.scope}; there is one per place and kind.")
        seen.add(decision.key)
    return Decisions(decisions, notes)


def _decision(entry: Any, path: Path, index: int, *, note: bool) -> Decision:
    where = f"{'note' if note else 'decision'} {index + 1} of {path}"
    if not isinstance(entry, Mapping):
        raise UsageError(f"The {where} is not an object.")
    wanted = ("pointer", "contract", "why") if note else (
        "pointer", "kind", "example", "vendor", "contract", "why")
    missing = [name for name in wanted if not isinstance(entry.get(name), str)]
    if missing:
        raise UsageError(f"The {where} lacks {', '.join(missing)}.")
    scopes = [name for name in ("operation", "object", "statuses") if name in entry]
    if len(scopes) != 1:
        raise UsageError(f"The {where} names {len(scopes)} scopes; it names one of operation "
                         "(with payload), object or statuses.")
    if not note and entry["kind"] not in KINDS:
        raise UsageError(f"The {where} has kind {entry['kind']!r}, not one of {', '.join(KINDS)}.")
    payload = entry.get("payload")
    if "operation" in entry and not (isinstance(payload, str) and PAYLOAD.match(payload)):
        raise UsageError(f"The {where} has payload {payload!r}, not request, response, "
                         "response-NNN, path, query or header.")
    statuses = entry.get("statuses", [])
    if not (isinstance(statuses, list) and all(isinstance(s, int) for s in statuses)):
        raise UsageError(f"The {where} has statuses {statuses!r}, not a list of statuses.")
    return Decision(entry["pointer"], None if note else entry["kind"], entry["contract"],
                    entry["why"], entry.get("operation"), payload, entry.get("object"),
                    tuple(statuses))
