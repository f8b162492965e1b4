"""Where a vendor OpenAPI file contradicts the documented examples and its own, and how it differs
from the pinned contract, each matched to its recorded decision.

A contradiction is keyed by ``(payload, pointer, kind)``, the key of the recorded decisions in
``schemas/decisions/vendor-openapi.json``. Two sources of examples count: the documented request
and 200 response (``schemas/examples/``) and the vendor file's own ``example``/``examples`` values
on the operation's schemas.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding, Report, pointer
from ghl_contract.openapi_source import CYCLE_KEY, OpenAPIDocument, Operation, read_data
from ghl_contract.resources import example_path, schemas_dir
from ghl_contract.rules import severity
from ghl_contract.schema_findings import json_type
from ghl_contract.specdiff import diff_operations

KINDS = ("type", "no-properties", "missing-required", "undeclared-property", "enum", "format")
PAYLOADS = ("request", "response")
Key = tuple[str, str, str]  # (payload, pointer, kind)

_KIND_TEXT = {
    "type": "type contradiction",
    "no-properties": "object without declared properties",
    "missing-required": "required field missing from the example",
    "undeclared-property": "example field the vendor does not declare",
    "enum": "value outside the vendor's enum",
    "format": "value breaking the vendor's format",
}


@dataclass
class Contradiction:
    """One place where the vendor schema and an example disagree."""

    payload: str  # "request" or "response" (the 200 body)
    pointer: str  # payload terms, "*" for every item of an array
    kind: str  # one of KINDS
    example: str  # what the (first) example shows there
    vendor: str  # what the vendor schema says there
    origins: list[str] = field(default_factory=list)  # which examples show it

    @property
    def key(self) -> Key:
        return (self.payload, self.pointer, self.kind)


@dataclass(frozen=True)
class Decision:
    """A recorded decision: what the contract does where the vendor and an example disagree."""

    payload: str
    pointer: str
    kind: str | None  # None for a recorded note (a choice made without a contradiction)
    contract: str
    why: str

    @property
    def key(self) -> Key:
        return (self.payload, self.pointer, self.kind or "")


def decisions_path() -> Path:
    return schemas_dir() / "decisions" / "vendor-openapi.json"


def load_decisions(path: Path | None = None) -> tuple[dict[Key, Decision], list[Decision]]:
    """The recorded decisions by key, and the recorded notes; a malformed file is a UsageError."""
    path = path or decisions_path()
    data = read_data(path, "recorded decisions file")
    if not isinstance(data, Mapping) or not isinstance(data.get("decisions"), list):
        raise UsageError(f"The recorded decisions file {path} has no 'decisions' list.")
    decisions: dict[Key, Decision] = {}
    for index, entry in enumerate(data["decisions"]):
        decision = _decision(entry, path, index, note=False)
        if decision.key in decisions:
            raise UsageError(f"The recorded decisions file {path} has two decisions for "
                             f"{decision.key}; there is one per (payload, pointer, kind).")
        decisions[decision.key] = decision
    notes = [_decision(entry, path, index, note=True)
             for index, entry in enumerate(data.get("notes") or [])]
    return decisions, notes


def _decision(entry: Any, path: Path, index: int, *, note: bool) -> Decision:
    where = f"{'note' if note else 'decision'} {index + 1} of {path}"
    if not isinstance(entry, Mapping):
        raise UsageError(f"The {where} is not an object.")
    wanted = ("payload", "pointer", "contract", "why") if note else (
        "payload", "pointer", "kind", "example", "vendor", "contract", "why")
    missing = [name for name in wanted if not isinstance(entry.get(name), str)]
    if missing:
        raise UsageError(f"The {where} lacks {', '.join(missing)}.")
    if entry["payload"] not in PAYLOADS:
        raise UsageError(f"The {where} has payload {entry['payload']!r}, not request or response.")
    if not note and entry["kind"] not in KINDS:
        raise UsageError(f"The {where} has kind {entry['kind']!r}, not one of {', '.join(KINDS)}.")
    return Decision(entry["payload"], entry["pointer"], None if note else entry["kind"],
                    entry["contract"], entry["why"])


def documented_examples() -> dict[str, Any]:
    """The documented request and 200 response, as shipped in ``schemas/examples/``."""
    return {"request": read_data(example_path("request"), "documented example"),
            "response": read_data(example_path("response-200"), "documented example")}


# --- recomputing the contradictions ---------------------------------------------------------



def _types(schema: Mapping[str, Any]) -> list[str] | None:
    kinds = schema.get("type")
    if kinds is None:
        return None
    return list(kinds) if isinstance(kinds, list) else [kinds]


def _accepts(kinds: list[str], value: Any) -> bool:
    actual = json_type(value)
    return actual in kinds or (actual == "integer" and "number" in kinds)


@cache
def _format_validator(name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for({"format": name}, validate_formats=True)


def _same(first: Any, second: Any) -> bool:
    # JSON equality: in Python True == 1, in JSON a boolean is never a number.
    return json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def _show(value: Any) -> str:
    """An example value for a sentence: short, with its JSON type."""
    kind = json_type(value)
    if isinstance(value, dict):
        names = list(value)
        more = ", ..." if len(names) > 6 else ""
        return f"an object {{{', '.join(names[:6])}{more}}}"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    text = json.dumps(value, ensure_ascii=False)
    text = text if len(text) <= 40 else f"{text[:37]}..."
    article = "an" if kind[0] in "aeiou" else "a"
    return text if value is None else f"{text} ({article} {kind})"


class _Walk:
    """Checks example values against vendor schemas; one contradiction per key, all origins kept."""

    def __init__(self, payload: str) -> None:
        self.payload = payload
        self.found: dict[Key, Contradiction] = {}

    def add(self, kind: str, path: tuple[str, ...], origin: str, example: str, vendor: str) -> None:
        key = (self.payload, pointer(path), kind)
        if key not in self.found:
            self.found[key] = Contradiction(*key, example=example, vendor=vendor)
        if origin not in self.found[key].origins:
            self.found[key].origins.append(origin)

    def check(self, schema: Any, value: Any, path: tuple[str, ...], origin: str) -> None:
        if not isinstance(schema, Mapping) or CYCLE_KEY in schema:
            return
        kinds = _types(schema)
        if kinds is not None and not _accepts(kinds, value):
            # Nothing below a value of the wrong type can be compared with the vendor's schema.
            self.add("type", path, origin, _show(value), f"type: {' or '.join(kinds)}")
            return
        enum = schema.get("enum")
        if isinstance(enum, list) and not any(_same(value, option) for option in enum):
            self.add("enum", path, origin, _show(value), f"enum: {json.dumps(enum)}")
        form = schema.get("format")
        if (isinstance(value, str) and isinstance(form, str)
                and not _format_validator(form).is_valid(value)):
            self.add("format", path, origin, _show(value), f"format: {form}")
        if isinstance(value, dict):
            self._object(schema, kinds, value, path, origin)
        elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
            for item in value:
                self.check(schema["items"], item, (*path, "*"), origin)

    def _object(self, schema: Mapping[str, Any], kinds: list[str] | None,
                value: dict[str, Any], path: tuple[str, ...], origin: str) -> None:
        properties = schema.get("properties")
        declared: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        extra = schema.get("additionalProperties")
        if not declared and value and kinds and "object" in kinds and extra is None:
            self.add("no-properties", path, origin, _show(value),
                     "type: object, no properties declared")
            return
        for name in schema.get("required") or ():
            if name not in value:
                self.add("missing-required", (*path, name), origin, "absent", "required")
        for name, item in value.items():
            if name in declared:
                self.check(declared[name], item, (*path, name), origin)
            elif isinstance(extra, Mapping):
                self.check(extra, item, (*path, name), origin)
            elif extra is not True:
                self.add("undeclared-property", (*path, name), origin, _show(item),
                         f"not declared (declares {', '.join(declared)})")

    def vendor_examples(self, schema: Any, path: tuple[str, ...] = ()) -> int:
        """Check every example the vendor wrote on `schema` and below; return how many."""
        if not isinstance(schema, Mapping) or CYCLE_KEY in schema:
            return 0
        count = 0
        for value in _examples_of(schema):
            self.check(schema, value, path, f"vendor example at {pointer(path) or '/'}")
            count += 1
        for name, sub in (schema.get("properties") or {}).items():
            count += self.vendor_examples(sub, (*path, name))
        for key in ("items", "additionalProperties"):
            count += self.vendor_examples(schema.get(key), (*path, "*"))
        return count


def _examples_of(schema: Mapping[str, Any]) -> Iterator[Any]:
    if "example" in schema:
        yield schema["example"]
    if isinstance(schema.get("examples"), list):
        yield from schema["examples"]


def _vendor_payloads(operation: Operation) -> dict[str, Any]:
    return {"request": operation.request, "response": operation.responses.get("200")}


def contradictions(document: OpenAPIDocument, operation_id: str,
                   examples: Mapping[str, Any]) -> list[Contradiction]:
    """Every place where the operation's vendor request and 200 schemas contradict the documented
    `examples` (``{"request": ..., "response": ...}``) or the vendor's own examples."""
    return _contradictions(document.operation(operation_id), examples)[0]


def _contradictions(operation: Operation,
                    examples: Mapping[str, Any]) -> tuple[list[Contradiction], int]:
    found: list[Contradiction] = []
    checked = 0
    for payload, schema in _vendor_payloads(operation).items():
        walk = _Walk(payload)
        if schema is None:
            continue
        if payload in examples:
            walk.check(schema, examples[payload], (), "documented example")
            checked += 1
        checked += walk.vendor_examples(schema)
        found.extend(walk.found.values())
    return found, checked


# --- the lint report ------------------------------------------------------------------------

_BODY = {"request": "request", "response": "response 200"}


def _payload_of(source: str | None) -> str | None:
    return {"request": "request", "response 200": "response"}.get(source or "")


def _decision_for(finding: Finding, decisions: Mapping[Key, Decision],
                  notes: list[Decision]) -> Decision | None:
    """The recorded decision that explains a divergence: same place, else an enclosing object
    whose vendor schema declares no properties (its decision covers every field below it)."""
    payload = _payload_of(finding.source)
    if payload is None:
        return None
    same = [d for d in (*decisions.values(), *notes)
            if (d.payload, d.pointer) == (payload, finding.pointer)]
    if same:
        return same[0]
    enclosing = [d for d in decisions.values()
                 if d.payload == payload and d.kind == "no-properties"
                 and finding.pointer.startswith(d.pointer + "/")]
    return max(enclosing, key=lambda d: len(d.pointer), default=None)


def _recorded(decision: Decision | None) -> str:
    if decision is None:
        return ""
    label = "recorded decision" if decision.kind else "recorded note"
    contract, why = decision.contract.rstrip("."), decision.why.rstrip(".")
    return f"; {label}: the contract says {contract}, because {_lower_first(why)}"


def lint(document: OpenAPIDocument, operation_id: str, examples: Mapping[str, Any],
         contract: Operation, decisions: Mapping[Key, Decision],
         notes: list[Decision] | None = None) -> Report:
    """Contradictions (breaking when no decision records them) and divergences from `contract`."""
    notes = notes or []
    operation = document.operation(operation_id)
    found, checked = _contradictions(operation, examples)
    report = Report(checked=checked)
    for item in found:
        decision = decisions.get(item.key)
        rule = "vendor-contradiction" if decision else "vendor-contradiction-unrecorded"
        shown_by = " and ".join(f"the {origin}".replace("vendor example", "vendor's example")
                                for origin in item.origins)
        verb = "show" if len(item.origins) > 1 else "shows"
        tail = _recorded(decision) or "; no recorded decision covers it"
        report.findings.append(Finding(
            item.pointer, rule, severity(rule),
            f"{_KIND_TEXT[item.kind].capitalize()} at {pointer_text(item.pointer)}: "
            f"{shown_by} {verb} {item.example} where the vendor says {item.vendor}{tail}.",
            expected=item.vendor, actual=item.example,
            source=f"vendor vs examples: {_BODY[item.payload]}"))
    for finding in diff_operations(contract, operation).findings:
        decision = _decision_for(finding, decisions, notes)
        report.findings.append(Finding(
            finding.pointer, "vendor-divergence", severity("vendor-divergence"),
            f"From the pinned contract to the vendor file: {finding.message.rstrip('.')} "
            f"({finding.rule}){_recorded(decision)}.",
            expected=finding.expected, actual=finding.actual,
            source=f"vendor vs pinned contract: {finding.source}"))
    keys = {item.key for item in found}
    recorded = sum(1 for item in found if item.key in decisions)
    report.notes.append(
        f"{len(found)} contradictions between {document.path.name} and the examples for "
        f"{operation_id}, {recorded} with a recorded decision; "
        f"{len(report.findings) - len(found)} differences from the pinned contract.")
    for key in sorted(set(decisions) - keys):
        report.notes.append(f"The recorded decision for {key} matches no contradiction in "
                            f"{document.path.name}.")
    return report


def pointer_text(value: str) -> str:
    return value or "the top level"


def _lower_first(text: str) -> str:
    # "The field ..." reads on after a comma; "InvoiceItemDto ..." and "/invoice ..." stay as is.
    first_word = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first_word[1:].islower() else text
