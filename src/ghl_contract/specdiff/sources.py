"""Turns a contract named on the command line (pinned, a directory, a file) into an Operation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import referencing.exceptions

from ghl_contract.errors import UsageError
from ghl_contract.openapi_source import (
    DEFAULT_OPERATION,
    DEFAULT_ROUTE,
    Operation,
    Schema,
    inline,
    load_document,
)
from ghl_contract.registry import ContractRegistry, pinned

PINNED = "pinned"
_ERROR_FILE = re.compile(r"^error-(\d{3})\.json$")


def load_operation(spec: str, operation_id: str = DEFAULT_OPERATION,
                   refs: Mapping[str, Path] | None = None) -> Operation:
    """`spec` is ``pinned``, a directory of this project's schemas, or an OpenAPI document."""
    if spec == PINNED:
        return contract_operation(pinned(), operation_id, "the pinned contract")
    path = Path(spec)
    if path.is_dir():
        return contract_operation(ContractRegistry.load(path), operation_id, str(path))
    if not path.exists():
        raise UsageError(f"{spec} does not exist (a contract is 'pinned', a schemas directory "
                         "or an OpenAPI file).")
    return load_document(path, refs).operation(operation_id)


def contract_operation(registry: ContractRegistry, operation_id: str = DEFAULT_OPERATION,
                       label: str | None = None) -> Operation:
    """The operation as a contract directory describes it: request.json, response-200.json and
    error-NNN.json (error.json, the shape for any other status, as ``default``)."""
    label = label or str(registry.directory)
    if operation_id not in (DEFAULT_OPERATION, DEFAULT_ROUTE):
        raise UsageError(
            f"The contract {label} describes only {DEFAULT_OPERATION}, not {operation_id!r}.")
    if "response-200.json" not in registry.documents:
        raise UsageError(f"The contract {label} has no response-200.json.")
    references = registry.referencing

    def lookup(ref: str, base: str) -> tuple[Any, str]:
        try:
            resolved = references.resolver(base_uri=base).lookup(ref)
        except referencing.exceptions.Unresolvable:
            raise UsageError(
                f"The reference {ref!r} in {base} of the contract {label} cannot be resolved."
            ) from None
        return resolved.contents, urljoin(base, ref)

    def schema(name: str) -> Schema:
        return inline(registry.schema(name), registry.uri(name), lookup)

    responses: dict[str, Schema] = {"200": schema("response-200.json")}
    for name in sorted(registry.documents):
        match = _ERROR_FILE.match(name)
        if match:
            responses[match.group(1)] = schema(name)
    # error.json is the body the checker expects of an undocumented status, not a documented
    # response: the contract lists its statuses, as `ghl-contract openapi` does.
    request = schema("request.json") if "request.json" in registry.documents else None
    return Operation(DEFAULT_OPERATION, label, request, responses)
