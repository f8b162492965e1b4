"""The contract's schema files: valid, resolvable, unique ids, true to the documentation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ghl_contract.decisions import PARAMETER_PAYLOADS, Decision, load_decisions
from ghl_contract.findings import pointer
from ghl_contract.registry import BASE_URI, pinned
from ghl_contract.resources import schemas_dir

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DECISIONS = schemas_dir() / "decisions" / "vendor-openapi.json"
DECISIONS_SCHEMA = Path(__file__).resolve().parent / "decisions.schema.json"
NAMES = sorted(pinned().documents)
REFS = sorted(set(pinned().refs()))


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Documented:
    """An example the manifest names, and the schema its payload follows."""

    operation: str
    payload: str  # request, or the response status
    schema: str
    path: str  # relative to the contract directory

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.payload}-{Path(self.path).stem}"


def _documented() -> list[Documented]:
    found = []
    for operation in pinned().manifest:
        if operation.request and operation.request_example:
            found.append(Documented(operation.id, "request", operation.request,
                                    operation.request_example))
        for status, response in operation.responses.items():
            for example in (response.example, *response.examples.values()):
                if example is not None:
                    found.append(Documented(operation.id, str(status), response.schema, example))
    return found


DOCUMENTED = _documented()


def _keys(node: Any) -> Iterator[str]:
    """Every key of every object in a schema, keywords and property names alike."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _errors(name: str, payload: Any, *, strict: bool) -> list[tuple[str, str]]:
    validator = pinned().validator(name, strict=strict)
    return [(type(e.kind).__name__, pointer(e.instance_path))
            for e in validator.iter_errors(payload)]


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(pinned().schema(name))


@pytest.mark.parametrize("name", NAMES)
def test_schema_declares_its_dialect_and_a_stable_id(name: str) -> None:
    schema = pinned().schema(name)
    assert (schema.get("$schema"), schema.get("$id")) == (DIALECT, BASE_URI + name)


def test_ids_are_unique() -> None:
    ids = [pinned().schema(name).get("$id") for name in NAMES]
    assert len(set(ids)) == len(ids) == len(NAMES)


@pytest.mark.parametrize(("name", "ref"), REFS, ids=[f"{name}->{ref}" for name, ref in REFS])
def test_reference_resolves(name: str, ref: str) -> None:
    resolver: Any = pinned().referencing.resolver(base_uri=pinned().uri(name))
    resolved = resolver.lookup(ref)
    assert isinstance(resolved.contents, dict)
    assert resolved.contents.get("$id", "").startswith(BASE_URI)


@pytest.mark.parametrize("name", NAMES)
def test_schema_composes_nothing(name: str) -> None:
    # anyOf/oneOf would report every alternative for one change (type arrays say the same
    # thing); allOf would break the strict profile, which closes each object on its own.
    assert {"anyOf", "oneOf", "allOf"} & set(_keys(pinned().schema(name))) == set()


def test_every_operation_names_its_documented_examples() -> None:
    named = {(d.operation, d.payload) for d in DOCUMENTED}
    for operation in pinned().manifest:
        assert (operation.id, str(operation.success.status)) in named, operation.id
        assert operation.request is None or (operation.id, "request") in named, operation.id


@pytest.mark.parametrize("strict", [False, True], ids=["tolerant", "strict"])
@pytest.mark.parametrize("documented", DOCUMENTED, ids=lambda d: d.id)
def test_documented_payload_is_valid(documented: Documented, strict: bool) -> None:
    payload = _read(schemas_dir() / documented.path)
    assert _errors(documented.schema, payload, strict=strict) == []


@pytest.mark.parametrize("documented", DOCUMENTED, ids=lambda d: d.id)
def test_documented_payload_is_valid_for_python_jsonschema(documented: Documented) -> None:
    """A second engine, through the `referencing` registry, agrees with jsonschema-rs."""
    registry = pinned()
    schema = {"$ref": registry.uri(documented.schema)}
    validator = Draft202012Validator(schema, registry=registry.referencing,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    payload = _read(schemas_dir() / documented.path)
    assert [error.message for error in validator.iter_errors(payload)] == []


def _required_only(schema: dict[str, Any], resolver: Any, value: Any) -> Any:
    """`value` with every property its schema does not require removed, at every depth (a
    requirement of a `then` whose `if` the value meets included)."""
    while "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        schema, resolver = resolved.contents, resolved.resolver
    if isinstance(value, dict) and "properties" in schema:
        kept = set(schema.get("required", []))
        if "if" in schema and Draft202012Validator(schema["if"]).is_valid(value):
            kept |= set(schema.get("then", {}).get("required", []))
        properties = schema["properties"]
        return {key: _required_only(properties[key], resolver, item)
                for key, item in value.items() if key in kept}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_required_only(schema["items"], resolver, item) for item in value]
    return value


@pytest.mark.parametrize("strict", [False, True], ids=["tolerant", "strict"])
@pytest.mark.parametrize("documented", DOCUMENTED, ids=lambda d: d.id)
def test_documented_payload_without_optional_fields_is_valid(documented: Documented,
                                                             strict: bool) -> None:
    registry = pinned()
    resolver: Any = registry.referencing.resolver(base_uri=registry.uri(documented.schema))
    full = _read(schemas_dir() / documented.path)
    minimal = _required_only(registry.schema(documented.schema), resolver, full)
    assert _errors(documented.schema, minimal, strict=strict) == []


@pytest.mark.parametrize("example", ["request", "response-200"])
def test_the_primary_documented_payloads_carry_optional_fields(example: str) -> None:
    """The test above removes something from them: they are not their required fields alone."""
    documented = next(d for d in DOCUMENTED if d.path == f"examples/{example}.json")
    registry = pinned()
    resolver: Any = registry.referencing.resolver(base_uri=registry.uri(documented.schema))
    full = _read(schemas_dir() / documented.path)
    assert _required_only(registry.schema(documented.schema), resolver, full) != full


def test_strict_profile_keeps_conditional_requirements() -> None:
    """An added field does not hide the schedule that enabled recurrence needs: the `if` of
    frequency-settings.json stays open when the strict profile closes every object."""
    payload = {"enabled": True, "timezone": "UTC"}
    assert sorted(_errors("frequency-settings.json", payload, strict=True)) == [
        ("AdditionalProperties", ""), ("Required", "")]
    assert _errors("frequency-settings.json", payload, strict=False) == [("Required", "")]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429])
def test_an_error_body_requires_no_field_as_highlevel_documents(status: int) -> None:
    name = pinned().manifest.primary.body_schema(status)
    assert _errors(name, {}, strict=True) == []
    assert _errors(name, {"statusCode": status, "detail": "x"}, strict=True) == [
        ("AdditionalProperties", "")]


# --- the recorded decisions (schemas/decisions/vendor-openapi.json) -------------------------


def test_decisions_file_follows_its_schema() -> None:
    schema = _read(DECISIONS_SCHEMA)
    Draft202012Validator.check_schema(schema)
    problems = [f"{e.json_path}: {e.message}"
                for e in Draft202012Validator(schema).iter_errors(_read(DECISIONS))]
    assert problems == []


def test_decisions_have_one_entry_per_place_and_kind() -> None:
    keys = [decision.key for decision in load_decisions().decisions]
    assert sorted({key for key in keys if keys.count(key) > 1}) == []


def _schema_at(name: str, where: str) -> dict[str, Any] | None:
    """The contract's schema at a payload pointer inside `name` ("*" is every item)."""
    registry = pinned()
    resolver: Any = registry.referencing.resolver(base_uri=registry.uri(name))
    schema: dict[str, Any] = registry.schema(name)
    for token in where.split("/")[1:]:
        while "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            schema, resolver = resolved.contents, resolved.resolver
        child = schema.get("items") if token == "*" else schema.get("properties", {}).get(token)
        if not isinstance(child, dict):
            return None
        schema = child
    return schema


def _described(decision: Decision) -> bool:
    manifest = pinned().manifest
    if decision.object is not None:
        return _schema_at(f"{decision.object}.json", decision.pointer) is not None
    if decision.statuses:
        return all(_schema_at(manifest.primary.body_schema(status), decision.pointer) is not None
                   for status in decision.statuses)
    operation = manifest.get(str(decision.operation))
    if decision.payload in PARAMETER_PAYLOADS:
        return decision.pointer[1:] in {p.name for p in operation.in_(str(decision.payload))}
    status = operation.success.status if decision.payload == "response" else (
        None if decision.payload == "request" else int(str(decision.payload).split("-")[1]))
    name = operation.request if status is None else operation.body_schema(status)
    return name is not None and _schema_at(name, decision.pointer) is not None


@pytest.mark.parametrize(
    "entry", [*load_decisions().decisions, *load_decisions().notes],
    ids=lambda entry: f"{entry.scope}:{entry.pointer}:{entry.kind or 'note'}")
def test_recorded_pointer_is_described_by_the_contract(entry: Decision) -> None:
    assert _described(entry)
