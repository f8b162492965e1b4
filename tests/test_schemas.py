"""The contract's schema files: valid, resolvable, unique ids, true to the documentation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ghl_contract.findings import pointer
from ghl_contract.registry import BASE_URI, pinned
from ghl_contract.resources import schemas_dir

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DECISIONS = schemas_dir() / "decisions" / "vendor-openapi.json"
DECISIONS_SCHEMA = Path(__file__).resolve().parent / "decisions.schema.json"
NAMES = sorted(pinned().documents)
REFS = sorted(set(pinned().refs()))
DOCUMENTED = [("request", "request"), ("response", "response-200")]  # (payload kind, example)


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


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
def test_schema_has_no_composite_alternatives(name: str) -> None:
    # anyOf/oneOf would report every alternative for one change; type arrays say the same thing.
    assert {"anyOf", "oneOf"} & set(_keys(pinned().schema(name))) == set()


@pytest.mark.parametrize("strict", [False, True], ids=["tolerant", "strict"])
@pytest.mark.parametrize(("kind", "example"), DOCUMENTED)
def test_documented_payload_is_valid(kind: str, example: str, strict: bool) -> None:
    payload = _read(schemas_dir() / "examples" / f"{example}.json")
    assert _errors(pinned().payload_schema(kind), payload, strict=strict) == []


@pytest.mark.parametrize("example", ["request", "response-200"])
def test_documented_payload_is_valid_for_python_jsonschema(example: str) -> None:
    """A second engine, through the `referencing` registry, agrees with jsonschema-rs."""
    registry = pinned()
    schema = {"$ref": registry.uri(f"{example}.json")}
    validator = Draft202012Validator(schema, registry=registry.referencing,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    payload = _read(schemas_dir() / "examples" / f"{example}.json")
    assert [error.message for error in validator.iter_errors(payload)] == []


def _required_only(schema: dict[str, Any], resolver: Any, value: Any) -> Any:
    """`value` with every property its schema does not require removed, at every depth."""
    while "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        schema, resolver = resolved.contents, resolved.resolver
    if isinstance(value, dict) and "properties" in schema:
        kept = set(schema.get("required", []))
        properties = schema["properties"]
        return {key: _required_only(properties[key], resolver, item)
                for key, item in value.items() if key in kept}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_required_only(schema["items"], resolver, item) for item in value]
    return value


@pytest.mark.parametrize("strict", [False, True], ids=["tolerant", "strict"])
@pytest.mark.parametrize(("kind", "example"), DOCUMENTED)
def test_documented_payload_without_optional_fields_is_valid(kind: str, example: str,
                                                             strict: bool) -> None:
    registry = pinned()
    name = pinned().payload_schema(kind)
    resolver: Any = registry.referencing.resolver(base_uri=registry.uri(name))
    full = _read(schemas_dir() / "examples" / f"{example}.json")
    minimal = _required_only(registry.schema(name), resolver, full)
    assert minimal != full  # the documented payloads do carry optional fields
    assert _errors(name, minimal, strict=strict) == []


def test_strict_profile_keeps_conditional_requirements() -> None:
    """An added field does not hide the schedule that enabled recurrence needs: the `if` of
    frequency-settings.json stays open when the strict profile closes every object."""
    payload = {"enabled": True, "timezone": "UTC"}
    assert sorted(_errors("frequency-settings.json", payload, strict=True)) == [
        ("AdditionalProperties", ""), ("Required", "")]
    assert _errors("frequency-settings.json", payload, strict=False) == [("Required", "")]


# --- the recorded decisions (schemas/decisions/vendor-openapi.json) -------------------------


def test_decisions_file_follows_its_schema() -> None:
    schema = _read(DECISIONS_SCHEMA)
    Draft202012Validator.check_schema(schema)
    problems = [f"{e.json_path}: {e.message}"
                for e in Draft202012Validator(schema).iter_errors(_read(DECISIONS))]
    assert problems == []


def test_decisions_have_one_entry_per_key() -> None:
    keys = [(d["payload"], d["pointer"], d["kind"]) for d in _read(DECISIONS)["decisions"]]
    assert sorted({key for key in keys if keys.count(key) > 1}) == []


def _contract_at(payload: str, where: str) -> dict[str, Any] | None:
    """The contract's schema for a payload pointer ("*" is every item), or None if it has none."""
    registry = pinned()
    name = pinned().payload_schema(payload)
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


@pytest.mark.parametrize(
    "entry", [*_read(DECISIONS)["decisions"], *_read(DECISIONS)["notes"]],
    ids=lambda entry: f"{entry['payload']}{entry['pointer']}:{entry.get('kind', 'note')}")
def test_recorded_pointer_is_described_by_the_contract(entry: dict[str, Any]) -> None:
    assert _contract_at(entry["payload"], entry["pointer"]) is not None
