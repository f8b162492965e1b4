"""How the mock judges a request: with the contract's own schemas, worded as the profile answers.

The body is validated against the operation's request schema and the path and query against its
parameters (`registry.parameters_validator`); no rule is written here. The documented profile
tolerates undocumented properties and words each problem as the contract's finding ("Required field
/altId is missing."); the observed profile refuses them, as NestJS's global validation pipe does,
and words each problem as class-validator does ("items.0.type must be a valid enum value").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from ghl_contract.findings import Finding
from ghl_contract.mock.behaviour import Behaviour, Database
from ghl_contract.mock.patch import apply, parts
from ghl_contract.operations import Operation
from ghl_contract.registry import ContractRegistry, close_objects
from ghl_contract.schema_findings import schema_findings

# class-validator's sentence for a value of another type, by the type the contract wants.
_TYPES = {
    "string": "must be a string",
    "number": "must be a number conforming to the specified constraints",
    "integer": "must be an integer number",
    "boolean": "must be a boolean value",
    "array": "must be an array",
    "object": "must be an object",
}


def nest_message(finding: Finding, declared: Mapping[str, Any]) -> str:
    """One problem as class-validator words it: the field as a dotted path, then the sentence
    (`declared`: the field's schema, which words a missing field as its first check would)."""
    path = parts(finding.pointer)
    name = ".".join(path) or "body"
    if finding.rule == "property-added":
        parent = ".".join(path[:-1])
        return f"{parent + '.' if parent else ''}property {path[-1]} should not exist"
    if finding.rule == "missing-required":
        # As seen live: "altId must be a string", "altType should not be empty", and a missing
        # issueDate "must be in YYYY-MM-DD format".
        if declared.get("format") == "date":
            return f"{name} must be in YYYY-MM-DD format"
        if declared.get("type") == "string" and "enum" not in declared:
            return f"{name} must be a string"
        return f"{name} should not be empty"
    if finding.rule in ("type-changed", "null-not-allowed"):
        wanted = finding.expected[0] if isinstance(finding.expected, list) else finding.expected
        return f"{name} {_TYPES.get(str(wanted), f'must be a {wanted}')}"
    if finding.rule == "enum-value-unknown":
        return f"{name} must be a valid enum value"
    if finding.rule == "format-changed" and finding.expected == "date":
        return f"{name} must be in YYYY-MM-DD format"
    if finding.rule == "format-changed" and finding.expected == "date-time":
        return f"{name} must be a valid ISO 8601 date string"
    if finding.rule == "format-changed":
        return f"{name} must match {finding.expected} regular expression"
    if finding.actual == "":
        return f"{name} should not be empty"
    return f"{name} is not valid"


@dataclass
class RequestRules:
    """What one operation accepts under one behaviour profile: validators made on first use."""

    contract: ContractRegistry
    operation: Operation
    behaviour: Behaviour
    _body: jsonschema_rs.Validator | None = field(default=None, repr=False)

    def body_problems(self, body: Any) -> list[str]:
        """Why the request body breaks the operation's request schema, one sentence each."""
        return self._words(self._body_validator(), body, lambda: self._body_schema)

    def parameter_problems(self, location: str, values: dict[str, str]) -> list[str]:
        """Why the path or query parameters break the operation's, one sentence each."""
        return self._words(self.contract.parameters_validator(self.operation, location), values,
                           lambda: {"properties": {p.name: p.schema
                                                   for p in self.operation.in_(location)}})

    def database_problem(self, body: Any) -> str | None:
        """The database's message for a required field the DTO let through, if one is absent."""
        database = self.behaviour.database.get(self.operation.id)
        if database is None:
            return None
        missing = [path for pointer in database.required for path in _absent(body, pointer)]
        if not missing:
            return None
        return _database_message(database, missing)

    def _words(self, validator: jsonschema_rs.Validator, payload: Any,
               schema: Callable[[], Mapping[str, Any]]) -> list[str]:
        found = schema_findings(validator, payload)
        if not self.behaviour.nest_validation:
            return [finding.message for finding in found]
        return [nest_message(f, _declared(self.contract, schema(), parts(f.pointer)))
                for f in found]

    @property
    def _body_schema(self) -> dict[str, Any]:
        """The request schema as this profile applies it (the contract's, edited)."""
        name = self.operation.request
        assert name is not None, "validated only for an operation that takes a body"
        edited: dict[str, Any] = apply(self.contract.schema(name),
                                       self.behaviour.requests.get(self.operation.id, ()))
        return edited

    def _body_validator(self) -> jsonschema_rs.Validator:
        if self._body is None:
            name = self.operation.request
            assert name is not None, "validated only for an operation that takes a body"
            if self.operation.id not in self.behaviour.requests:
                self._body = self.contract.validator(name, strict=self.behaviour.nest_validation)
            else:
                self._body = _compile(self.contract, name, self._body_schema,
                                      strict=self.behaviour.nest_validation)
        return self._body


def _declared(contract: ContractRegistry, schema: Mapping[str, Any],
              path: list[str]) -> Mapping[str, Any]:
    """The schema `schema` declares at `path` (array items and object properties followed,
    `$ref`s to the contract's documents resolved); {} where it declares none."""
    node: Any = schema
    for token in path:
        node = _resolved(contract, node)
        node = node.get("items") if token.isdigit() and "items" in node else \
            node.get("properties", {}).get(token)
        if not isinstance(node, Mapping):
            return {}
    return _resolved(contract, node)


def _resolved(contract: ContractRegistry, node: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return node
    address, _, fragment = reference.partition("#")
    # The contract's documents are one directory: a reference names one by its file name.
    document: Any = contract.documents.get(address.rsplit("/", 1)[-1], {})
    for token in parts(fragment):
        document = document.get(token, {}) if isinstance(document, Mapping) else {}
    return document if isinstance(document, Mapping) else {}


def _compile(contract: ContractRegistry, name: str, schema: dict[str, Any], *,
             strict: bool) -> jsonschema_rs.Validator:
    """A validator of an edited copy of the contract's schema `name`, its `$ref`s resolved among
    the contract's documents (closed when `strict`, as the registry's strict profile)."""
    shape = close_objects if strict else (lambda doc: json.loads(json.dumps(doc)))
    # Another $id beside the original, so that its relative $refs resolve as the original's do.
    edited = {**schema, "$id": contract.uri(name).removesuffix(".json") + ".edited.json"}
    resources = [(contract.uri(n), shape(doc)) for n, doc in contract.documents.items()]
    return jsonschema_rs.validator_for(shape(edited), registry=jsonschema_rs.Registry(resources),
                                       validate_formats=True)


def _absent(body: Any, pointer: str, at: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The paths (as tuples) where `pointer` (with * for every array item) finds nothing."""
    tokens = parts(pointer)
    if not tokens:
        return
    head, rest = tokens[0], "".join(f"/{token}" for token in tokens[1:])
    if head == "*":
        for index, item in enumerate(body if isinstance(body, list) else ()):
            yield from _absent(item, rest, (*at, str(index)))
        return
    if not isinstance(body, dict):
        return  # the DTO's own finding
    if head not in body:
        yield (*at, head)
    elif rest:
        yield from _absent(body[head], rest, (*at, head))


def _database_message(database: Database, missing: list[tuple[str, ...]]) -> str:
    """Mongoose's words: `estimates validation failed: title: Path 'title' is required.`"""
    reasons = ", ".join(f"{'.'.join(path)}: Path '{path[-1]}' is required." for path in missing)
    return f"{database.collection} validation failed: {reasons}"
