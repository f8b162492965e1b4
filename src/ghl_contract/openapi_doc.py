"""Assembles an OpenAPI 3.1 document for create-invoice-from-estimate from the contract's schemas.

Every schema file becomes one entry of ``components/schemas`` named after the file
(``estimate.json`` -> ``estimate``), so the document maps back to a contract directory. Relative
``$ref``s become ``#/components/schemas/...``; ``$id`` and ``$schema`` are dropped, because an
``$id`` inside a component would move the base URI that those local references resolve against.
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
from ghl_contract.registry import ERROR_SCHEMAS, ContractRegistry, Schema, pinned
from ghl_contract.settings import LIVE_BASE_URL

OPERATION_ID = "create-invoice-from-estimate"
PATH = "/invoices/estimate/{estimateId}/invoice"
COMPONENTS = "#/components/schemas/"
SECURITY_SCHEME = "bearer"

# Errors the documentation shows versus those the live API is only known to send.
_DOCUMENTED_ERRORS = frozenset({400, 401, 422})


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


def _example(registry: ContractRegistry, name: str) -> Any | None:
    """The documented body kept beside the contract (``examples/<name>.json``), if there is one."""
    path = registry.directory / "examples" / f"{name}.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"The documented example {path} cannot be read: {exc}.") from None


def _property(registry: ContractRegistry, file_name: str, prop: str) -> tuple[Schema, bool]:
    """A parameter's schema taken from the contract, and whether the contract requires it."""
    document = registry.schema(file_name)
    try:
        schema = copy.deepcopy(document["properties"][prop])
    except KeyError:
        raise UsageError(f"The contract's {file_name} does not describe {prop!r}.") from None
    return schema, prop in document.get("required", [])


def _json_content(schema_name: str, example: Any | None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": {"$ref": COMPONENTS + component_name(schema_name)}}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _parameters(registry: ContractRegistry) -> list[dict[str, Any]]:
    estimate_id, _ = _property(registry, "path-parameters.json", "estimateId")
    version, version_required = _property(registry, "headers.json", "Version")
    # Authorization belongs to the security scheme: OpenAPI ignores a header parameter so named.
    parameters: list[dict[str, Any]] = [
        {"name": "estimateId", "in": "path", "required": True, "schema": estimate_id},
        {"name": "Version", "in": "header", "required": version_required, "schema": version},
    ]
    for parameter in parameters:
        if "description" in parameter["schema"]:
            parameter["description"] = parameter["schema"]["description"]
    return parameters


def _responses(registry: ContractRegistry) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "Successfully Created",
                "content": _json_content("response-200.json", _example(registry, "response-200"))},
    }
    for status, schema_name in sorted(ERROR_SCHEMAS.items()):
        phrase = HTTPStatus(status).phrase
        seen = "" if status in _DOCUMENTED_ERRORS else " (sent by the live API; undocumented)"
        responses[str(status)] = {"description": phrase + seen,
                                  "content": _json_content(schema_name, None)}
    return responses


def build(registry: ContractRegistry | None = None, server: str = LIVE_BASE_URL) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the operation, as a JSON-ready dict."""
    registry = registry or pinned()
    operation = {
        "operationId": OPERATION_ID,
        "summary": "Create Invoice from Estimate",
        "description": "Create a new invoice from an existing estimate.",
        "tags": ["Estimate"],
        "security": [{SECURITY_SCHEME: []}],
        "parameters": _parameters(registry),
        "requestBody": {"required": True,
                        "content": _json_content("request.json", _example(registry, "request"))},
        "responses": _responses(registry),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "HighLevel: create an invoice from an estimate",
            "version": __version__,
            "description": "Assembled by ghl-contract from its contract schemas.",
        },
        "servers": [{"url": server}],
        "paths": {PATH: {"post": operation}},
        "components": {
            "schemas": components(registry),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "OAuth access token or Private Integration Token of a "
                                   "sub-account, scope invoices/estimate.write.",
                },
            },
        },
    }
