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
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import referencing
from referencing.jsonschema import DRAFT202012

from ghl_contract.errors import UsageError
from ghl_contract.resources import schemas_dir

BASE_URI = "https://ghl-contract.example/schemas/"

# What `--kind` names, and the schema each kind is checked against.
KINDS: Mapping[str, str] = {
    "response": "response-200.json",
    "request": "request.json",
    "estimate": "estimate.json",
    "invoice": "invoice.json",
    "error": "error.json",
}

# Error bodies by HTTP status; any other status falls back to the shape all errors share.
ERROR_SCHEMAS: Mapping[int, str] = {
    400: "error-400.json",
    401: "error-401.json",
    403: "error-403.json",
    404: "error-404.json",
    422: "error-422.json",
    429: "error-429.json",
}

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
    """The schemas of one contract directory, keyed by file name (``estimate.json``)."""

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
        """A compiled validator for `name`; `strict` closes every documented object."""
        key = (name, strict)
        if key not in self._validators:
            shape = close_objects if strict else copy.deepcopy
            resources = [(self.uri(n), shape(doc)) for n, doc in self.documents.items()]
            self._validators[key] = jsonschema_rs.validator_for(
                shape(self.schema(name)),
                registry=jsonschema_rs.Registry(resources),
                validate_formats=True,
            )
        return self._validators[key]

    def refs(self) -> Iterator[tuple[str, str]]:
        """Every ``(schema name, $ref)`` pair, for checks that all references resolve."""
        for name, doc in self.documents.items():
            for ref in walk_refs(doc):
                yield name, ref


@cache
def pinned() -> ContractRegistry:
    """The contract that ships with this package, loaded once."""
    return ContractRegistry.load(schemas_dir())


def kind_schema(kind: str) -> str:
    try:
        return KINDS[kind]
    except KeyError:
        raise UsageError(
            f"Unknown payload kind {kind!r}; choose one of {', '.join(KINDS)}."
        ) from None


def error_schema(status: int) -> str:
    return ERROR_SCHEMAS.get(status, KINDS["error"])
