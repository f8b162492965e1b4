"""Named, reproducible ways for the mock to break the contract: body drifts and answer faults.

The profiles are data (profiles.json beside this module, its shape in profiles.schema.json). A
drift changes the answers of one operation and status: edits at JSON pointers (patch.py), some of
them through a named transform of this module (TRANSFORMS), or headers left out; each names the
rule the contract suite must report and the JSON pointer where it must report it ("" for the whole
answer). A fault profile breaks the answer itself (its timing, status, framing or content type);
the app carries those out (see `app.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema_rs

from ghl_contract.mock.derive import json_number
from ghl_contract.mock.patch import Edit, Transform, Unreachable, apply, check
from ghl_contract.money import invoice_total
from ghl_contract.registry import pinned
from ghl_contract.rules import RULES

_HERE = Path(__file__).resolve().parent
PROFILES = _HERE / "profiles.json"
PROFILES_SCHEMA = _HERE / "profiles.schema.json"


def _other_id(value: Any, _: Any) -> str:
    # Another id of the same shape: the last character changed.
    text = str(value)
    return text[:-1] + ("0" if text[-1:] != "0" else "1")


def _without_last_item(invoice: Any, _: Any) -> Any:
    # The total and amountDue follow the remaining items, so only the items' invariant breaks.
    items = invoice["invoiceItems"]
    if items:
        items.pop()
        total = json_number(invoice_total(items, invoice.get("discount")))
        invoice["total"] = invoice["amountDue"] = total
    return invoice


def _joined(message: Any, _: Any) -> str:
    return "; ".join(message) if isinstance(message, list) else str(message)


# What a drift's `transform` edits can do to the value at their path: (old value, argument) -> new.
TRANSFORMS: dict[str, Transform] = {
    "string": lambda value, _: str(value),
    "plus": lambda value, by: json_number(Decimal(str(value)) + Decimal(str(by))),
    "date-time": lambda value, _: f"{value}T00:00:00.000Z",
    "other-id": _other_id,
    "other-currency": lambda value, _: "EUR" if value != "EUR" else "USD",
    "keyed-by-position": lambda items, _: {str(i): item for i, item in enumerate(items)},
    "without-last-item": _without_last_item,
    "joined": _joined,
    "ids": lambda objects, _: [item.get("_id") if isinstance(item, dict) else item
                               for item in objects],
}


@dataclass(frozen=True)
class DriftProfile:
    """A deterministic change to the answers of one operation and status, and where the suite
    must see it."""

    name: str
    description: str
    operation: str  # the manifest's operation id
    status: int  # which of its answers it changes
    rule: str  # a code of ghl_contract.rules
    pointer: str  # where in the body the finding must be reported ("": the whole answer)
    patch: tuple[Edit, ...]  # the edits of the body (none: the body is left as it is)
    drop_headers: tuple[str, ...] = ()  # prefixes of the (lower case) headers it leaves out

    def changes(self, operation: str, status: int) -> bool:
        """Whether an answer of `operation` with `status` is one this drift changes."""
        return operation == self.operation and status == self.status

    def change(self, body: Any) -> Any:
        """The drifted copy of `body`; Unreachable when `body` lacks a place the patch edits
        (another profile's answer). `body` itself is left as it was."""
        return apply(body, self.patch, TRANSFORMS)

    def apply(self, body: Any) -> Any:
        """The drifted copy of `body`, or an equal copy when the patch does not reach it."""
        try:
            return self.change(body)
        except Unreachable:
            return apply(body, ())

    def drops(self, header: bytes) -> bool:
        return header.lower().decode("latin-1").startswith(self.drop_headers) \
            if self.drop_headers else False


@dataclass(frozen=True)
class FaultProfile:
    """A way the answer itself fails, and the rule the suite must report for it."""

    name: str
    description: str
    rule: str
    processes: bool  # whether the request is still carried out (an invoice may be created)


def _load() -> tuple[dict[str, DriftProfile], dict[str, FaultProfile]]:
    """The packaged profiles, checked: a broken entry is a defect of the package, so it fails at
    import with the entry's name rather than when a run first meets it."""
    data = json.loads(PROFILES.read_text(encoding="utf-8"))
    schema = json.loads(PROFILES_SCHEMA.read_text(encoding="utf-8"))
    error = next(iter(jsonschema_rs.validator_for(schema).iter_errors(data)), None)
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.instance_path)
        raise RuntimeError(f"{PROFILES} is not valid at {where}: {error.message}.")
    manifest = pinned().manifest
    drifts: dict[str, DriftProfile] = {}
    for entry in data["drifts"]:
        drift = DriftProfile(entry["name"], entry["description"], entry["operation"],
                             entry["status"], entry["rule"], entry["pointer"],
                             tuple(Edit.of(edit) for edit in entry["patch"]),
                             tuple(entry.get("drop_headers", ())))
        operation = manifest.operations.get(drift.operation)
        problem = (
            f"names the unknown rule {drift.rule!r}" if drift.rule not in RULES else
            f"names the operation {drift.operation!r}, which the manifest does not have"
            if operation is None else
            f"changes {drift.status} answers, which {drift.operation} does not document"
            if not operation.documents(drift.status) else
            "changes nothing (no patch, no header)" if not drift.patch and not drift.drop_headers
            else check(drift.patch, TRANSFORMS))
        _unique(drift.name, drifts, problem)
        drifts[drift.name] = drift
    faults: dict[str, FaultProfile] = {}
    for entry in data["faults"]:
        fault = FaultProfile(entry["name"], entry["description"], entry["rule"],
                             entry["processes"])
        _unique(fault.name, faults, f"names the unknown rule {fault.rule!r}"
                if fault.rule not in RULES else None)
        faults[fault.name] = fault
    return drifts, faults


def _unique(name: str, known: Mapping[str, object], problem: str | None) -> None:
    if problem is None and name in known:
        problem = "is listed twice"
    if problem is not None:
        raise RuntimeError(f"The profile {name!r} of {PROFILES} {problem}.")


DRIFT_PROFILES, FAULT_PROFILES = _load()
