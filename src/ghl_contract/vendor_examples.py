"""What a vendor OpenAPI file documents for one operation of the manifest: its payloads (the
request body, each response body, the parameters of each location) and every example written on
them, including the body HighLevel's reference page shows (`documented_body`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag

from ghl_contract import operations as manifest
from ghl_contract.decisions import PARAMETER_PAYLOADS, payload_label
from ghl_contract.errors import UsageError
from ghl_contract.findings import pointer
from ghl_contract.openapi_source import CYCLE_KEY, OpenAPIDocument, Schema, inline

# What HighLevel's reference pages show for a value the vendor gives no example of.
PLACEHOLDERS: Mapping[str, Any] = {"string": "<string>", "number": 123, "integer": 123,
                                   "boolean": True}


def documented_body(schema: Any) -> Any:
    """The body HighLevel's reference page shows for `schema`: a value's own example (or the
    first of its examples), else an enum's first value, an object's properties (the required ones
    first, each in the vendor's order), one item of an array, or a placeholder by type."""
    if not isinstance(schema, Mapping) or CYCLE_KEY in schema:
        return None
    if "example" in schema:
        return schema["example"]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kinds = schema.get("type")
    kind = kinds[0] if isinstance(kinds, list) and kinds else kinds
    properties = schema.get("properties")
    if kind == "object" or isinstance(properties, Mapping):
        declared: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        required = [name for name in schema.get("required") or () if name in declared]
        order = [*required, *(name for name in declared if name not in required)]
        return {name: documented_body(declared[name]) for name in order}
    if kind == "array":
        items = schema.get("items")
        return [documented_body(items)] if isinstance(items, Mapping) and items else []
    return PLACEHOLDERS.get(str(kind))


def _examples_of(schema: Mapping[str, Any]) -> Iterator[Any]:
    if "example" in schema:
        yield schema["example"]
    if isinstance(schema.get("examples"), list):
        yield from schema["examples"]


def written_examples(schema: Any, path: tuple[str, ...] = ()
                      ) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every example the vendor wrote on `schema` and below, with where it sits."""
    if not isinstance(schema, Mapping) or CYCLE_KEY in schema:
        return
    for value in _examples_of(schema):
        yield path, value
    for name, sub in (schema.get("properties") or {}).items():
        yield from written_examples(sub, (*path, name))
    for key in ("items", "additionalProperties"):
        yield from written_examples(schema.get(key), (*path, "*"))


def origin_at(path: tuple[str, ...]) -> str:
    """How a finding names an example written on a schema: by where it sits."""
    return f"vendor example at {pointer(path) or '/'}"


@dataclass(frozen=True)
class Example:
    """One example the vendor documents, and where: (payload, pointer) of its operation."""

    payload: str
    path: tuple[str, ...]
    value: Any
    origin: str  # "reference page's body", "the vendor's example at /x", ...

    @property
    def pointer(self) -> str:
        return pointer(self.path)


@dataclass(frozen=True)
class Payload:
    """One payload of an operation in the vendor file: its schema (None where the vendor gives
    only examples) and the examples written on it."""

    label: str
    vendor: Schema | None
    examples: tuple[Example, ...]


def selector(document: OpenAPIDocument, operation: manifest.Operation) -> str | None:
    """How the vendor file names the manifest's operation: by its route where the file has it
    (an id may name two routes), else by its id; None where it has neither."""
    routes = {f"{raw.method.upper()} {raw.route}": raw.operation_id
              for raw in document.operations()}
    if operation.label in routes:
        return operation.label
    return operation.id if operation.id in routes.values() else None


def raw_operation(document: OpenAPIDocument, chosen: str) -> Mapping[str, Any]:
    """The vendor's operation object, as written, that `chosen` (an id or a route) names."""
    return next(raw.operation for raw in document.operations()
                if chosen in (raw.operation_id, f"{raw.method.upper()} {raw.route}"))


def _resolved(document: OpenAPIDocument, node: Any) -> tuple[Any, str]:
    """A node that may be a `$ref` (a parameter, a response, a named example), followed."""
    base = document.uri
    for _ in range(32):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            return node, base
        node, uri = document.lookup(node["$ref"], base)
        base = urldefrag(uri).url
    raise UsageError(f"The references in {document.path} loop without reaching an object.")


def _media_examples(document: OpenAPIDocument, node: Any) -> Iterator[tuple[str, Any]]:
    """The named (or single) examples of a request body's or response's JSON media type."""
    node, _ = _resolved(document, node)
    content = node.get("content") if isinstance(node, Mapping) else None
    for media_type, media in (content or {}).items():
        if "json" not in media_type or not isinstance(media, Mapping):
            continue
        if "example" in media:
            yield "example", media["example"]
        for name, example in (media.get("examples") or {}).items():
            example, _ = _resolved(document, example)
            if isinstance(example, Mapping) and "value" in example:
                yield str(name), example["value"]
        return


def vendor_payloads(document: OpenAPIDocument, operation: manifest.Operation) -> list[Payload]:
    """Every payload of `operation` in the vendor file, with every example it documents: the
    body its reference page shows, each example written on its schema, its named examples, and
    each parameter's examples."""
    chosen = selector(document, operation)
    if chosen is None:
        raise UsageError(f"The vendor file {document.path} has no operation {operation.id} "
                         f"({operation.label}).")
    raw, resolved = raw_operation(document, chosen), document.operation(chosen)
    payloads = [_body(document, "request", resolved.request, raw.get("requestBody"))]
    for status, response in (raw.get("responses") or {}).items():
        if str(status).isdigit():
            payloads.append(_body(document, payload_label(operation, status),
                                  resolved.responses.get(str(status)), response))
    payloads.extend(_parameters(document, raw))
    return [payload for payload in payloads if payload.vendor is not None or payload.examples]


def _body(document: OpenAPIDocument, label: str, schema: Schema | None, raw: Any) -> Payload:
    examples: list[Example] = []
    if schema is not None:
        examples.append(Example(label, (), documented_body(schema), "reference page's body"))
        examples.extend(Example(label, path, value, origin_at(path))
                        for path, value in written_examples(schema))
    examples.extend(Example(label, (), value, f"vendor example {name!r}")
                    for name, value in _media_examples(document, raw))
    return Payload(label, schema, tuple(examples))


def _parameters(document: OpenAPIDocument, raw: Mapping[str, Any]) -> list[Payload]:
    """Each parameter location as one object payload: a parameter is a property, its schema's
    examples (and the parameter's own) its examples."""
    properties: dict[str, dict[str, Schema]] = {}
    examples: dict[str, list[Example]] = {}
    for node in raw.get("parameters") or ():
        parameter, base = _resolved(document, node)
        if not isinstance(parameter, Mapping) or parameter.get("in") not in PARAMETER_PAYLOADS:
            continue
        where, name = str(parameter["in"]), str(parameter.get("name"))
        schema = inline(parameter.get("schema") or {}, base, document.lookup)
        properties.setdefault(where, {})[name] = schema
        values = [*_examples_of(parameter), *_examples_of(schema)]
        examples.setdefault(where, []).extend(
            Example(where, (name,), value, f"vendor example of {where} parameter {name}")
            for value in values)
    return [Payload(where, {"type": "object", "properties": schemas},
                    tuple(examples.get(where, ()))) for where, schemas in properties.items()]


