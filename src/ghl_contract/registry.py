"""The one schema registry: every contract schema loaded once, with tolerant and strict profiles.

The schemas under ``schemas/`` tolerate unknown properties, as the live API adds fields. The strict
profile is derived from the same documents at load time: every object schema that lists its
``properties`` (and says nothing of ``additionalProperties``) is closed. Validating against the
strict profile is how an added field becomes visible as a non-breaking ``property-added`` finding.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema_rs
import referencing
from referencing.jsonschema import DRAFT202012

from ghl_contract.errors import UsageError
from ghl_contract.operations import (
    ERROR_FALLBACK,
    OPERATIONS_DIR,
    Manifest,
    Operation,
    load_manifest,
)
from ghl_contract.resources import schemas_dir

BASE_URI = "https://ghl-contract.example/schemas/"

# What a payload is, besides a schema of the contract named directly (`--kind estimate`): an
# operation's request body, its success body, or an error body (judged by its status).
PAYLOAD_KINDS = ("request", "response", "error")

Schema = dict[str, Any]


def close_objects(schema: Any) -> Any:
    """Return a copy of `schema` where each object listing its properties forbids others."""
    if isinstance(schema, list):
        return [close_objects(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    # A condition (`if`, `not`) describes no payload shape: closing it would change its meaning.
    closed = {
        key: value if key in ("if", "not") else close_objects(value)
        for key, value in schema.items()
    }
    if "properties" in schema and "additionalProperties" not in schema:
        closed["additionalProperties"] = False
    return closed


def walk_refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from walk_refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from walk_refs(item)


@dataclass(frozen=True)
class ContractRegistry:
    """The schemas of one contract directory, keyed by file name (``estimate.json``), and its
    operation manifest (``operations/``)."""

    directory: Path
    documents: Mapping[str, Schema]
    _validators: dict[tuple[str, bool], jsonschema_rs.Validator] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def load(cls, directory: Path) -> ContractRegistry:
        if not directory.is_dir():
            raise UsageError(f"The contract directory {directory} does not exist.")
        documents: dict[str, Schema] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                documents[path.name] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"The schema {path} cannot be read: {exc}.") from None
        if not documents:
            raise UsageError(f"The contract directory {directory} holds no *.json schema.")
        return cls(directory, documents)

    @cached_property
    def manifest(self) -> Manifest:
        """The operations this contract describes (``operations/*.json``), loaded once."""
        return load_manifest(self.directory, self.documents)

    def operation(self, operation_id: str | None = None) -> Operation:
        """The operation `operation_id` names; the manifest's primary one for None."""
        return self.manifest.primary if operation_id is None else self.manifest.get(operation_id)

    def payload_schema(self, kind: str, operation: Operation | None = None,
                       status: int | None = None) -> str:
        """The schema a payload of `kind` is judged by: the `operation`'s (default: the primary
        one) request, success or error body (by `status`), or a schema named directly."""
        operation = operation or self.manifest.primary
        if kind == "request":
            if operation.request is None:
                raise UsageError(f"The operation {operation.id} takes no request body.")
            return operation.request
        if kind == "response":
            return operation.body_schema(status) if status else operation.success.schema
        if kind == "error":
            return operation.body_schema(status) if status else ERROR_FALLBACK
        if f"{kind}.json" in self.documents:
            return f"{kind}.json"
        named = sorted(name.removesuffix(".json") for name in self.documents)
        raise UsageError(f"Unknown payload kind {kind!r}; choose {', '.join(PAYLOAD_KINDS)} or a "
                         f"schema of the contract ({', '.join(named)}).")

    def operation_uri(self, operation: Operation) -> str:
        """The base URI of an operation's manifest entry: its parameters' `$ref`s resolve
        against it (``../parameters.json#/$defs/estimateId``)."""
        return f"{BASE_URI}{OPERATIONS_DIR}/{operation.id}.json"

    def uri(self, name: str) -> str:
        return str(self.documents[name].get("$id", BASE_URI + name))

    def schema(self, name: str) -> Schema:
        try:
            return self.documents[name]
        except KeyError:
            raise UsageError(f"The contract has no schema named {name!r}.") from None

    @property
    def referencing(self) -> referencing.Registry[Any]:
        """The documents as a `referencing.Registry` (for python-jsonschema and tooling)."""
        resources = [
            (self.uri(name), DRAFT202012.create_resource(doc))
            for name, doc in self.documents.items()
        ]
        return referencing.Registry().with_resources(resources)

    def validator(self, name: str, *, strict: bool = False) -> jsonschema_rs.Validator:
        """A compiled validator for `name` (``estimate.json``, or a part of one:
        ``parameters.json#/$defs/estimateId``); `strict` closes every documented object."""
        key = (name, strict)
        if key not in self._validators:
            file, _, fragment = name.partition("#")
            schema = self.schema(file) if not fragment else {"$ref": self.uri(file) + "#" +
                                                                      fragment}
            self._validators[key] = self._compile(schema, strict)
        return self._validators[key]

    def parameters_validator(self, operation: Operation, location: str,
                             ) -> jsonschema_rs.Validator:
        """A validator of `operation`'s parameters in `location` (path, query) as one object:
        each parameter a property with its schema, the required ones required."""
        key = (f"{operation.id}:{location}", False)
        if key not in self._validators:
            self._validators[key] = self._compile(self._parameters(operation, location), False)
        return self._validators[key]

    def request_parameters_validator(self, operation: Operation) -> jsonschema_rs.Validator:
        """A validator of all of `operation`'s parameters as one object, by location:
        ``{"path": {...}, "query": {...}, "header": {...}}`` (findings point at
        ``/header/Version``); a location left out of the object is not checked."""
        key = (f"{operation.id}:request", False)
        if key not in self._validators:
            locations = {location: self._parameters(operation, location)
                         for location in dict.fromkeys(p.location for p in operation.parameters)}
            self._validators[key] = self._compile(
                {"type": "object", "properties": locations}, False)
        return self._validators[key]

    def _parameters(self, operation: Operation, location: str) -> Schema:
        """`operation`'s parameters in `location` as one object schema."""
        base = self.operation_uri(operation)
        parameters = operation.in_(location)
        return {"type": "object",
                "properties": {p.name: _rebased(p.schema, base) for p in parameters},
                "required": [p.name for p in parameters if p.required]}

    def _compile(self, schema: Schema, strict: bool) -> jsonschema_rs.Validator:
        shape = close_objects if strict else copy.deepcopy
        resources = [(self.uri(n), shape(doc)) for n, doc in self.documents.items()]
        return jsonschema_rs.validator_for(
            shape(schema), registry=jsonschema_rs.Registry(resources), validate_formats=True)

    def refs(self) -> Iterator[tuple[str, str]]:
        """Every ``(schema name, $ref)`` pair, for checks that all references resolve."""
        for name, doc in self.documents.items():
            for ref in walk_refs(doc):
                yield name, ref


def _rebased(schema: Any, base: str) -> Any:
    """`schema` with its relative `$ref`s made absolute against `base` (where it was written)."""
    if isinstance(schema, list):
        return [_rebased(item, base) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    return {key: urljoin(base, value) if key == "$ref" and isinstance(value, str)
            else _rebased(value, base) for key, value in schema.items()}


@cache
def packaged() -> ContractRegistry:
    """The contract that ships with this package, loaded once."""
    return ContractRegistry.load(schemas_dir())


_active: list[ContractRegistry] = []  # the contract a command chose (--schemas, --contract-patch)


def pinned() -> ContractRegistry:
    """The contract this process checks against: the packaged one, unless the command was given
    another (`use_contract`), once at its start."""
    return _active[-1] if _active else packaged()


def use_contract(directory: Path | None = None, patch: str | Path | None = None
                 ) -> ContractRegistry:
    """Make the contract of `directory` (default: the packaged one), with `patch` applied (a file,
    or `observed` for the packaged observed.json), the one this process checks against."""
    registry = packaged() if directory is None else ContractRegistry.load(Path(directory))
    if patch is not None:
        from ghl_contract.patching import patched

        registry = patched(registry, patch)
    _active[:] = [registry]
    return registry
