"""Where a vendor OpenAPI file and the contract part ways, operation by operation, each place
matched to its recorded decision (``schemas/decisions/vendor-openapi.json``).

For each operation of the manifest that the vendor file describes, three things are compared:

- the vendor against itself: every example it writes (a property's ``example``/``examples``, a
  parameter's, a response's named examples, and the body its reference page shows, assembled by
  `documented_body`) against the vendor's own schema at that place;
- the vendor's examples against the contract: each example, at its place, against the contract's
  schema there, judged as the product judges a payload (strict profile, one finding per change);
- the vendor's schemas against the contract's, through the diff, for the reader (never failing).

A disagreement of the first two kinds is a `Contradiction`, keyed ``(operation, payload, pointer,
kind)``; each needs a recorded `Decision`, or the lint fails. A decision names its scope: one
operation's payload, an object wherever a success body holds it (``"object": "estimate"``, placed
by the manifest's ``objects``), or the error bodies of some statuses in every operation
(`ghl_contract.decisions`). What the vendor file documents: `ghl_contract.vendor_examples`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urldefrag, urljoin

import jsonschema_rs
import referencing.exceptions

from ghl_contract import operations as manifest
from ghl_contract.decisions import (
    PARAMETER_PAYLOADS,
    Decision,
    Decisions,
    generalised,
    payload_label,
)
from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding, Report, pointer
from ghl_contract.openapi_source import CYCLE_KEY, OpenAPIDocument, Operation
from ghl_contract.registry import ContractRegistry
from ghl_contract.reporters.common import plural
from ghl_contract.rules import severity
from ghl_contract.schema_findings import json_type, schema_findings
from ghl_contract.specdiff import contract_operation, diff_operations
from ghl_contract.vendor_examples import (
    Example,
    selector,
    vendor_payloads,
)

Key = tuple[str, str, str, str]  # (operation, payload, pointer, kind)

_KIND_TEXT = {
    "type": "type contradiction",
    "no-properties": "object without declared properties",
    "missing-required": "required field missing from the example",
    "undeclared-property": "example field the schema does not declare",
    "enum": "value outside the enum",
    "format": "value breaking the format",
    "constraint": "value breaking a constraint",
}
# What a schema finding of the contract says about an example, as a contradiction kind.
_KIND_OF_RULE = {
    "type-changed": "type", "null-not-allowed": "type", "missing-required": "missing-required",
    "enum-value-unknown": "enum", "format-changed": "format", "property-added":
    "undeclared-property", "constraint-violated": "constraint",
}

# --- the vendor against itself ------------------------------------------------------------------

@dataclass
class Contradiction:
    """Where an example and a schema (the vendor's, the contract's or both) disagree."""

    operation: str
    payload: str
    pointer: str  # payload terms, "*" for every item of an array
    kind: str  # one of KINDS
    example: str  # what the (first) example shows there
    vendor: str | None = None  # what the vendor's schema says, when it rejects the example
    contract: str | None = None  # what the contract says, when it rejects the example
    origins: list[str] = field(default_factory=list)  # which examples show it

    @property
    def key(self) -> Key:
        return (self.operation, self.payload, self.pointer, self.kind)


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


class _Found:
    """Contradictions of one operation, one per key, every origin kept."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.by_key: dict[Key, Contradiction] = {}

    def add(self, payload: str, at: str, kind: str, origin: str, example: str, *,
            vendor: str | None = None, contract: str | None = None) -> None:
        key = (self.operation, payload, at, kind)
        found = self.by_key.get(key)
        if found is None:
            found = self.by_key[key] = Contradiction(*key, example=example)
        found.vendor = found.vendor or vendor
        found.contract = found.contract or contract
        if origin not in found.origins:
            found.origins.append(origin)


class _Walk:
    """Checks example values against a vendor schema."""

    def __init__(self, found: _Found, payload: str) -> None:
        self.found, self.payload = found, payload

    def add(self, kind: str, path: tuple[str, ...], origin: str, example: str, vendor: str) -> None:
        self.found.add(self.payload, pointer(path), kind, origin, example, vendor=vendor)

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


def _subschema(schema: Any, path: tuple[str, ...]) -> Any:
    """The vendor schema at a payload path ("*" an array's items), or None."""
    for token in path:
        if not isinstance(schema, Mapping):
            return None
        schema = schema.get("items") if token == "*" else (
            (schema.get("properties") or {}).get(token, schema.get("additionalProperties")))
    return schema


# --- the contract at a place ----------------------------------------------------------------

def contract_place(registry: ContractRegistry, name: str, path: Sequence[str]) -> str | None:
    """The contract's schema at a payload path inside the schema `name`, as a name the registry
    compiles (``discount.json#/properties/validOnProductIds``); None where it declares nothing."""
    references = registry.referencing
    uri, fragment = registry.uri(name), ""
    node: Any = registry.schema(name)
    for token in path:
        for _ in range(32):
            if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
                break
            target = urljoin(uri + "#" + fragment, node["$ref"])
            try:
                node = references.resolver(base_uri=uri).lookup(node["$ref"]).contents
            except referencing.exceptions.Unresolvable:
                return None
            uri, fragment = urldefrag(target)
        if not isinstance(node, Mapping):
            return None
        step: tuple[str, ...]
        if token == "*":
            step = ("items",)
        elif token in (node.get("properties") or {}):
            step = ("properties", token)
        elif isinstance(node.get("additionalProperties"), Mapping):
            step = ("additionalProperties",)
        else:
            return None
        for part in step:
            node = node[part]
        fragment += pointer(step)
    file = next(n for n in registry.documents if registry.uri(n) == uri)
    return file + (f"#{fragment}" if fragment else "")


def _contract_findings(registry: ContractRegistry, operation: manifest.Operation,
                       example: Example) -> list[Finding] | None:
    """The contract's findings for an example at its place (payload pointers); None where the
    contract has no schema there."""
    if example.payload in PARAMETER_PAYLOADS:
        if len(example.path) != 1 or example.path[0] not in {
                p.name for p in operation.in_(example.payload)}:
            return None
        validator = registry.parameters_validator(operation, example.payload)
        return [f for f in schema_findings(validator, {example.path[0]: example.value})
                if f.pointer == example.pointer or f.pointer.startswith(example.pointer + "/")]
    name = _schema_name(operation, example.payload)
    if name is None:
        return None
    place = contract_place(registry, name, example.path)
    if place is None:
        return None
    found = schema_findings(registry.validator(place, strict=True), example.value)
    return [Finding(example.pointer + f.pointer, f.rule, f.severity, f.message, f.expected,
                    f.actual) for f in found]


def _schema_name(operation: manifest.Operation, payload: str) -> str | None:
    if payload == "request":
        return operation.request
    status = operation.success.status if payload == "response" else int(payload.split("-")[1])
    response = operation.responses.get(status)
    return response.schema if response is not None else None


# --- the lint report ------------------------------------------------------------------------------

@dataclass
class OperationLint:
    """What the lint found for one operation."""

    operation: manifest.Operation
    contradictions: list[Contradiction]
    examples: int = 0
    passing: int = 0
    covered: int = 0  # fail the contract, every failure covered by a recorded decision


def lint_operation(document: OpenAPIDocument, operation: manifest.Operation,
                   registry: ContractRegistry, decisions: Decisions) -> OperationLint:
    """The contradictions of one operation, and how its documented examples fare."""
    found = _Found(operation.id)
    result = OperationLint(operation, [])
    for payload in vendor_payloads(document, operation):
        walk = _Walk(found, payload.label)
        for example in payload.examples:
            walk.check(_subschema(payload.vendor, example.path), example.value, example.path,
                       example.origin)
            failures = _contract_findings(registry, operation, example)
            result.examples += 1
            if failures is None:
                documented = (payload.label in PARAMETER_PAYLOADS
                              or _schema_name(operation, payload.label) is not None)
                found.add(payload.label, generalised(example.pointer), "undeclared-property",
                          example.origin, _show(example.value),
                          contract="not declared" if documented else "no body of this status")
                continue
            covered = True
            for failure in failures:
                at, kind = generalised(failure.pointer), _KIND_OF_RULE[failure.rule]
                found.add(payload.label, at, kind, example.origin,
                          _show(_value_at(example, failure.pointer)),
                          contract=_contract_says(failure))
                covered &= decisions.covering(operation, payload.label, at, kind) is not None
            result.passing += not failures
            result.covered += bool(failures) and covered
    result.contradictions = list(found.by_key.values())
    return result


def _contract_says(failure: Finding) -> str:
    """What the contract says at a place where an example fails it, as the vendor's is said."""
    expected = failure.expected
    if failure.rule in ("type-changed", "null-not-allowed"):
        return "type: " + " or ".join(expected)
    if failure.rule == "enum-value-unknown":
        return f"enum: {json.dumps(expected)}"
    if failure.rule == "format-changed":
        return f"format: {expected}"
    return {"missing-required": "required", "property-added": "not declared"}.get(
        failure.rule, failure.message.rstrip("."))


def _value_at(example: Example, at: str) -> Any:
    value = example.value
    for token in at[len(example.pointer):].split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        elif isinstance(value, dict) and token in value:
            value = value[token]
        else:
            return "absent"
    return value


def contract_bodies(registry: ContractRegistry, operation: manifest.Operation) -> Operation:
    """The operation as the contract describes it, read by the diff's one reader of contracts
    (the assembled OpenAPI document), so the lint's divergences are the diff's."""
    return contract_operation(registry, operation.id, "the pinned contract")


def lint(document: OpenAPIDocument, operations: Sequence[manifest.Operation],
         registry: ContractRegistry, decisions: Decisions) -> Report:
    """Contradictions (breaking when no decision covers them) and divergences from the contract
    for each of `operations`, with a note per operation on its documented examples."""
    report = Report()
    matched: set[tuple[str, str, str]] = set()
    for operation in operations:
        result = lint_operation(document, operation, registry, decisions)
        report.checked += result.examples
        recorded = 0
        for item in result.contradictions:
            decision = decisions.covering(operation, item.payload, item.pointer, item.kind)
            if decision is not None:
                matched.add(decision.key)
                recorded += 1
            report.findings.append(_contradiction_finding(item, decision))
        divergences = _divergences(document, operation, registry, decisions)
        report.findings.extend(divergences)
        failing = result.examples - result.passing - result.covered
        report.notes.append(
            f"{operation.id}: of {plural(result.examples, 'documented example')} in "
            f"{document.path.name}, {result.passing} pass the contract, {result.covered} fail it "
            f"where a recorded decision covers each failure, {failing} fail it uncovered; "
            f"{plural(len(result.contradictions), 'contradiction')}, {recorded} with a recorded "
            f"decision; {plural(len(divergences), 'difference')} from the pinned contract.")
    linted = {operation.id for operation in operations}
    for decision in decisions.decisions:
        # Judged where every operation it speaks of was linted: an estimate's decision may
        # match in the conversion's body and not in list-estimates'.
        spoken_of = {op.id for op in registry.manifest if decision.places(op)}
        if decision.key not in matched and spoken_of and spoken_of <= linted:
            report.notes.append(f"The recorded decision for {decision.pointer or '/'} "
                                f"({decision.kind}) of {decision.scope} matches no contradiction "
                                f"in {document.path.name}.")
    return report


def _divergences(document: OpenAPIDocument, operation: manifest.Operation,
                 registry: ContractRegistry, decisions: Decisions) -> list[Finding]:
    """How the vendor's schemas of `operation` differ from the contract's (the diff), each with
    the decision or note recorded there: for the reader, never failing."""
    vendor = document.operation(str(selector(document, operation)))
    found = []
    for finding in diff_operations(contract_bodies(registry, operation), vendor).findings:
        payload = _payload_of(operation, finding.source)
        explained = decisions.explaining(operation, payload, finding.pointer) if payload else None
        found.append(Finding(
            finding.pointer, "vendor-divergence", severity("vendor-divergence"),
            f"From the pinned contract to the vendor file: {finding.message.rstrip('.')} "
            f"({finding.rule}){_recorded(explained)}.",
            expected=finding.expected, actual=finding.actual, operation=operation.id,
            source=f"{operation.id}: vendor vs pinned contract: {finding.source}"))
    return found


def _contradiction_finding(item: Contradiction, decision: Decision | None) -> Finding:
    rule = "vendor-contradiction" if decision else "vendor-contradiction-unrecorded"
    shown_by = " and ".join(f"the {origin}".replace("vendor example", "vendor's example")
                            for origin in item.origins)
    verb = "show" if len(item.origins) > 1 else "shows"
    said = [f"the vendor says {item.vendor}" if item.vendor else "the vendor's schema accepts it",
            f"the contract says {item.contract}" if item.contract else "the contract accepts it"]
    tail = _recorded(decision) or "; no recorded decision covers it"
    return Finding(
        item.pointer, rule, severity(rule),
        f"{_KIND_TEXT[item.kind].capitalize()} at {pointer_text(item.pointer)}: {shown_by} "
        f"{verb} {item.example}, where {' and '.join(said)}{tail}.",
        expected=item.vendor or item.contract, actual=item.example, operation=item.operation,
        source=f"{item.operation}: vendor examples: {item.payload}")


def _payload_of(operation: manifest.Operation, source: str | None) -> str | None:
    """The payload label of a diff finding's source ("request", "response 200")."""
    if source == "request":
        return "request"
    words = (source or "").split()
    if len(words) == 2 and words[0] == "response" and words[1].isdigit():
        return payload_label(operation, words[1])
    return None


def _recorded(decision: Decision | None) -> str:
    if decision is None:
        return ""
    label = "recorded decision" if decision.kind else "recorded note"
    contract, why = decision.contract.rstrip("."), decision.why.rstrip(".")
    return f"; {label}: the contract says {contract}, because {_lower_first(why)}"


def pointer_text(value: str) -> str:
    return value or "the top level"


def _lower_first(text: str) -> str:
    # "The field ..." reads on after a comma; "InvoiceItemDto ..." and "/invoice ..." stay as is.
    first_word = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first_word[1:].islower() else text


def lint_targets(document: OpenAPIDocument, operations: manifest.Manifest, chosen: str | None
                 ) -> tuple[list[manifest.Operation], list[manifest.Operation]]:
    """The operations to lint (`chosen`, else every one of the manifest) and those of the
    manifest the vendor file does not describe. A chosen one it lacks is a UsageError."""
    if chosen is not None:
        operation = operations.get(chosen)
        if selector(document, operation) is None:
            raise UsageError(f"The vendor file {document.path} has no operation {operation.id} "
                             f"({operation.label}).")
        return [operation], []
    present = [op for op in operations if selector(document, op) is not None]
    return present, [op for op in operations if selector(document, op) is None]
