"""Assembles an OpenAPI 3.1 document of every operation of the manifest from the contract's schemas.

Every schema file becomes one entry of ``components/schemas`` named after the file
(``estimate.json`` -> ``estimate``), so the document maps back to a contract directory. Relative
``$ref``s become ``#/components/schemas/...``; ``$id`` and ``$schema`` are dropped, because an
``$id`` inside a component would move the base URI that those local references resolve against.
Each operation's path, parameters, request body and responses come from its manifest entry
(``schemas/operations/``); statuses the live API sends but HighLevel does not document say so.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urldefrag, urljoin

from ghl_contract import __version__
from ghl_contract.errors import UsageError
from ghl_contract.operations import Operation, Parameter
from ghl_contract.registry import ContractRegistry, Schema, pinned
from ghl_contract.settings import LIVE_BASE_URL

COMPONENTS = "#/components/schemas/"
SECURITY_SCHEME = "bearer"


def component_name(file_name: str) -> str:
    """The component a schema file becomes: its file name without ``.json``."""
    return file_name.removesuffix(".json")


def _rewrite_refs(node: Any, base: str, targets: Mapping[str, str]) -> Any:
    """A copy of `node` with every ``$ref`` pointing into ``#/components/schemas``."""
    if isinstance(node, list):
        return [_rewrite_refs(item, base, targets) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            uri, fragment = urldefrag(urljoin(base, value))
            if uri not in targets:
                raise UsageError(
                    f"The schema {base} refers to {value}, which is not in the contract.")
            rewritten[key] = COMPONENTS + targets[uri] + fragment
        else:
            rewritten[key] = _rewrite_refs(value, base, targets)
    return rewritten


def components(registry: ContractRegistry) -> dict[str, Schema]:
    """Every contract schema as an OpenAPI component, references rewritten."""
    targets = {registry.uri(name): component_name(name) for name in registry.documents}
    result: dict[str, Schema] = {}
    for name, document in sorted(registry.documents.items()):
        body = {key: value for key, value in document.items() if key not in ("$id", "$schema")}
        result[component_name(name)] = _rewrite_refs(body, registry.uri(name), targets)
    return result


def _example(registry: ContractRegistry, relative: str | None) -> Any | None:
    """A documented body kept beside the contract (``examples/...``), if the manifest names one."""
    if relative is None:
        return None
    path = registry.directory / relative
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"The documented example {path} cannot be read: {exc}.") from None


def _json_content(schema_name: str, example: Any | None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": {"$ref": COMPONENTS + component_name(schema_name)}}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _parameter(registry: ContractRegistry, operation: Operation, parameter: Parameter,
               targets: Mapping[str, str]) -> dict[str, Any]:
    """The parameter with its schema inline (a tool reading the document need not follow a
    reference into another component's $defs for a header's enum)."""
    base, schema = registry.operation_uri(operation), dict(parameter.schema)
    while isinstance(schema.get("$ref"), str) and len(schema) == 1:
        target = urljoin(base, schema["$ref"])
        found = registry.referencing.resolver(base_uri=base).lookup(schema["$ref"]).contents
        base, schema = urldefrag(target).url, dict(found)
    schema = _rewrite_refs(copy.deepcopy(schema), base, targets)
    entry: dict[str, Any] = {"name": parameter.name, "in": parameter.location,
                             "required": parameter.required, "schema": schema}
    if parameter.description:
        entry["description"] = parameter.description
    return entry


def _responses(registry: ContractRegistry, operation: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, response in sorted(operation.responses.items()):
        seen = " (sent by the live API; undocumented)" if response.observed else ""
        responses[str(status)] = {
            "description": (response.description or HTTPStatus(status).phrase) + seen,
            "content": _json_content(response.schema, _example(registry, response.example)),
        }
    return responses


def _operation(registry: ContractRegistry, operation: Operation,
               targets: Mapping[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operationId": operation.id,
        "summary": operation.summary,
        "description": operation.description,
        "tags": list(operation.tags),
        "security": [{SECURITY_SCHEME: list(operation.scopes)}],
        # Authorization belongs to the security scheme: OpenAPI ignores a header parameter so
        # named.
        "parameters": [_parameter(registry, operation, p, targets)
                       for p in operation.parameters],
    }
    if operation.request is not None:
        entry["requestBody"] = {
            "required": True,
            "content": _json_content(operation.request,
                                     _example(registry, operation.request_example)),
        }
    entry["responses"] = _responses(registry, operation)
    return entry


def build(registry: ContractRegistry | None = None, server: str = LIVE_BASE_URL) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every operation of the contract, as a JSON-ready dict."""
    registry = registry or pinned()
    targets = {registry.uri(name): component_name(name) for name in registry.documents}
    paths: dict[str, dict[str, Any]] = {}
    for operation in registry.manifest:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(
            registry, operation, targets)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "HighLevel: estimates and invoices (ghl-contract)",
            "version": __version__,
            "description": "Assembled by ghl-contract from its contract schemas.",
        },
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": components(registry),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "OAuth access token or Private Integration Token of a "
                                   "sub-account, with the scopes each operation lists.",
                },
            },
        },
    }
