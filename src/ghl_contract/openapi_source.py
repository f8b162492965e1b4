"""Reads an OpenAPI document and gives its operations with every `$ref` resolved: parameters,
security requirements, request and response bodies.

The vendor's files point their error bodies at ``../common/common-schemas.json``, a path that
exists in HighLevel's repository but not next to a downloaded copy. A reference is looked up, in
order: in the explicit mapping (``--ref PATH=FILE``, PATH as written in the document), relative to
the file that holds it, then as a file of the same basename in the document's own directory.

Resolved schemas are plain trees: each `$ref` is replaced by its target, an ``allOf`` is merged
into the schema that holds it (the vendor wraps every nested object as ``allOf: [{$ref}]`` beside
its description and example), OpenAPI 3.0's ``nullable`` becomes a ``"null"`` type and its boolean
``exclusiveMinimum``/``exclusiveMaximum`` the numeric form of 3.1. Two schemas that differ only in
the names of the components they reference are therefore equal. A reference that leads back into
itself is left as ``{CYCLE_KEY: n}`` (the schema n references up) instead of recursing.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import referencing
import referencing.exceptions
from referencing import Resource, Specification

from ghl_contract.errors import UsageError
from ghl_contract.findings import show
from ghl_contract.schema_findings import json_type

Schema = dict[str, Any]

CYCLE_KEY = "x-ghl-recursive-ref"

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Parameter:
    """A parameter as an OpenAPI operation documents it, its schema resolved."""

    name: str
    location: str  # "path", "query", "header" or "cookie"
    required: bool
    schema: Schema

    @property
    def key(self) -> tuple[str, str]:
        """What identifies it on the wire: header names are case-insensitive."""
        return (self.location, self.name.lower() if self.location == "header" else self.name)


# One way to authenticate: each security scheme it needs (all of them) with the scopes it needs.
Requirement = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Operation:
    """One operation, resolved: its parameters, security, request body and each response body."""

    operation_id: str  # its operationId; "METHOD /path" when it has none
    label: str  # where it came from, for messages: a file path or "the pinned contract"
    request: Schema | None
    responses: Mapping[str, Schema]  # status ("200", "422", "default") -> JSON body schema
    method: str = ""  # "POST"
    route: str = ""  # "/things/{thingId}/action"
    parameters: tuple[Parameter, ...] = ()
    # The alternatives a client may authenticate with; an empty requirement means "none needed".
    security: tuple[Requirement, ...] = ()
    schemes: Mapping[str, str] = field(default_factory=dict)  # scheme name -> its shape, as text
    request_required: bool = False
    statuses: tuple[str, ...] = ()  # every documented status, with a JSON body or without
    declared_id: str | None = None  # the operationId as written, even one shared or absent

    @property
    def title(self) -> str:
        """``METHOD /path``."""
        return f"{self.method} {self.route}"


@dataclass(frozen=True)
class RawOperation:
    """An operation object of a document as written, with where it sits."""

    operation_id: str | None
    method: str  # lower case, as a key of the path item
    route: str
    operation: Mapping[str, Any]
    item: Mapping[str, Any]  # the path item: its parameters apply to every operation under it

    @property
    def title(self) -> str:
        return f"{self.method.upper()} {self.route}"


def read_data(path: Path, what: str = "file") -> Any:
    """The JSON (or, when pyyaml is installed, YAML) content of `path`; UsageError otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"The {what} {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"The {what} {path} cannot be read ({exc}).") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path, text, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"The {what} {path} is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})."
        ) from None


def _read_yaml(path: Path, text: str, what: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise UsageError(
            f"The {what} {path} is YAML, which needs pyyaml: install it or convert it to JSON."
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise UsageError(f"The {what} {path} is not valid YAML ({reason}).") from None


def ref_mapping(pairs: Sequence[str] | None) -> dict[str, Path]:
    """Parse ``--ref PATH=FILE`` values: PATH as the document writes it, FILE an existing file."""
    mapping: dict[str, Path] = {}
    for pair in pairs or ():
        written, sep, target = pair.partition("=")
        if not sep or not written or not target:
            raise UsageError(f"--ref {pair!r} is not of the form PATH=FILE.")
        file = Path(target)
        if not file.is_file():
            raise UsageError(f"The file {file} given to --ref {written}= does not exist.")
        mapping[written] = file.resolve()
    return mapping


class _MissingFile(Exception):
    """Raised inside `retrieve`: the sentence says where the reference was looked for."""


Lookup = Callable[[str, str], tuple[Any, str]]  # (ref, base URI) -> (target, target's URI)


@dataclass
class OpenAPIDocument:
    """An OpenAPI document read from a file, with its references resolvable."""

    path: Path  # an assembled document (the pinned contract) names a file that need not exist
    data: Mapping[str, Any]
    refs: Mapping[str, Path] = field(default_factory=dict)
    label: str | None = None  # how messages name it; the path when None
    _registry: referencing.Registry[Any] = field(init=False, repr=False)
    _files: dict[str, Resource[Any]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        # mypy's attrs plugin does not see referencing's field aliases (retrieve=...).
        registry: referencing.Registry[Any] = referencing.Registry(
            retrieve=self._retrieve)  # type: ignore[call-arg]
        self._registry = registry.with_resource(
            self.uri, Specification.OPAQUE.create_resource(self.data))

    @cached_property
    def uri(self) -> str:
        return self.path.resolve().as_uri()

    @property
    def name(self) -> str:
        return self.label or str(self.path)

    def _retrieve(self, uri: str) -> Resource[Any]:
        # Cached so that each external file is read once and keeps one identity.
        if uri not in self._files:
            wanted = Path(unquote(urlparse(uri).path))
            fallback = self.path.resolve().parent / wanted.name
            found = next((c for c in (wanted, fallback) if c.is_file()), None)
            if found is None:
                raise _MissingFile(f"neither {wanted} nor {fallback} exists")
            data = read_data(found, "referenced file")
            if not isinstance(data, Mapping):
                # a pointer walk into a non-object crashes inside referencing; say it here
                raise UsageError(f"The referenced file {found} is {json_kind(data)}, not a JSON "
                                 "object (an OpenAPI document or a schema).")
            self._files[uri] = Specification.OPAQUE.create_resource(data)
        return self._files[uri]

    def lookup(self, ref: str, base: str) -> tuple[Any, str]:
        """The target of `ref` written in the file at `base`, and the target's own URI."""
        written, fragment = urldefrag(ref)
        mapped = self.refs.get(written) if written else None
        target = ref if mapped is None else mapped.as_uri() + (f"#{fragment}" if fragment else "")
        try:
            resolved = self._registry.resolver(base_uri=base).lookup(target)
        except (ValueError, TypeError):
            # referencing's pointer walk met a scalar, or a name where an array wants an index
            raise UsageError(
                f"The reference {ref!r} in {_file(base)} cannot be resolved: its path #{fragment} "
                "goes through something that is not a JSON object."
            ) from None
        except referencing.exceptions.Unresolvable as exc:
            cause = _root_cause(exc)
            if isinstance(cause, UsageError):
                raise cause from None
            if isinstance(cause, _MissingFile):
                raise UsageError(
                    f"The reference {ref!r} in {_file(base)} cannot be resolved: {cause}; "
                    f"map it with --ref {written}=FILE."
                ) from None
            raise UsageError(
                f"The reference {ref!r} in {_file(base)} cannot be resolved: its target file has "
                f"nothing at #{fragment}."
            ) from None
        return resolved.contents, urljoin(base, target)

    def operations(self) -> Iterator[RawOperation]:
        """Every operation of the document, in its order, with or without an operationId."""
        paths = self.data.get("paths")
        if not isinstance(paths, Mapping):
            return
        for route, item in paths.items():
            if not isinstance(item, Mapping):
                continue
            for method in _METHODS:
                operation = item.get(method)
                if isinstance(operation, Mapping):
                    operation_id = operation.get("operationId")
                    yield RawOperation(operation_id if isinstance(operation_id, str) else None,
                                       method, str(route), operation, item)

    def operation_ids(self) -> list[str]:
        return [raw.operation_id for raw in self.operations() if raw.operation_id is not None]

    def select(self, selector: str) -> list[RawOperation]:
        """The operations `selector` names: its operationId, or ``METHOD /path``."""
        return [raw for raw in self.operations()
                if selector in (raw.operation_id, raw.title)]

    def operation(self, selector: str) -> Operation:
        """The operation `selector` names (its operationId, or ``METHOD /path`` when one id names
        several operations), resolved."""
        matches = self.select(selector)
        if not matches:
            raise UsageError(unknown_operation(selector, self.operation_ids(), self.name))
        if len(matches) > 1:
            # The vendor's files have done this (2025-08-08): picking one would diff the wrong one.
            where = ", ".join(raw.title for raw in matches)
            raise UsageError(f"The operation id {selector!r} names {len(matches)} operations in "
                             f"{self.name} ({where}); name one as --operation 'METHOD /path'.")
        return self.resolve(matches[0])

    def resolve(self, raw: RawOperation) -> Operation:
        """`raw` with its parameters, security and bodies resolved."""
        request = None
        body = raw.operation.get("requestBody")
        request_required = False
        if isinstance(body, Mapping):
            body, base = self._follow(body, self.uri)
            request_required = body.get("required") is True
            media = _json_media(body)
            if media is not None:
                request = inline(media, base, self.lookup)
        responses: dict[str, Schema] = {}
        raw_responses = raw.operation.get("responses")
        if not isinstance(raw_responses, Mapping):
            raw_responses = {}
        for status, response in raw_responses.items():
            if not isinstance(response, Mapping):
                continue
            response, base = self._follow(response, self.uri)
            media = _json_media(response)
            if media is not None:
                responses[str(status)] = inline(media, base, self.lookup)
        # An id the document gives several operations names none of them.
        unique = raw.operation_id is not None and self.operation_ids().count(raw.operation_id) == 1
        return Operation(raw.operation_id if unique and raw.operation_id else raw.title,
                         self.name, request, responses,
                         method=raw.method.upper(), route=raw.route,
                         parameters=self._parameters(raw), security=self._security(raw),
                         schemes=self._schemes(), request_required=request_required,
                         statuses=tuple(str(status) for status in raw_responses),
                         declared_id=raw.operation_id)

    def _parameters(self, raw: RawOperation) -> tuple[Parameter, ...]:
        """The path item's parameters, overridden by the operation's own of the same name."""
        found: dict[tuple[str, str], Parameter] = {}
        for holder in (raw.item, raw.operation):
            listed = holder.get("parameters")
            for entry in listed if isinstance(listed, list) else ():
                if not isinstance(entry, Mapping):
                    continue
                entry, base = self._follow(entry, self.uri)
                name, location = entry.get("name"), entry.get("in")
                if not isinstance(name, str) or not isinstance(location, str):
                    raise UsageError(f"A parameter of {raw.title} in {self.name} has no name "
                                     "or no 'in'.")
                written = entry.get("schema")
                if written is None:
                    written = _json_media(entry)
                schema = inline(written if written is not None else {}, base, self.lookup)
                parameter = Parameter(name, location,
                                      entry.get("required") is True or location == "path", schema)
                found[parameter.key] = parameter
        return tuple(found.values())

    def _security(self, raw: RawOperation) -> tuple[Requirement, ...]:
        # An operation's own list (even an empty one) replaces the document's.
        listed = raw.operation.get("security", self.data.get("security"))
        if not isinstance(listed, list) or not listed:
            return ({},)
        requirements: list[Requirement] = []
        for entry in listed:
            if isinstance(entry, Mapping):
                requirements.append({str(name): tuple(str(s) for s in scopes or ())
                                     for name, scopes in entry.items()
                                     if isinstance(scopes, list | None)})
        return tuple(requirements)

    def _schemes(self) -> dict[str, str]:
        components = self.data.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
        if not isinstance(schemes, Mapping):
            return {}
        return {str(name): _scheme_shape(scheme) for name, scheme in schemes.items()
                if isinstance(scheme, Mapping)}

    def _follow(self, node: Mapping[str, Any], base: str) -> tuple[Mapping[str, Any], str]:
        """A request body or response object that is itself a `$ref` (components/responses)."""
        for _ in range(32):  # a chain of references this long is a loop
            ref = node.get("$ref")
            if not isinstance(ref, str):
                return node, base
            target, uri = self.lookup(ref, base)
            if not isinstance(target, Mapping):
                raise UsageError(f"The reference {ref!r} in {self.name} is not an object.")
            node, base = target, urldefrag(uri).url
        raise UsageError(f"The references in {self.name} loop without reaching an object.")


def _scheme_shape(scheme: Mapping[str, Any]) -> str:
    """What a security scheme asks of a request, whatever it is named: two schemes of the same
    shape take the same credentials in the same place."""
    kind = scheme.get("type")
    if kind == "http":
        return f"http {str(scheme.get('scheme', '')).lower()}"
    if kind == "apiKey":
        return f"apiKey {scheme.get('in')} {str(scheme.get('name', '')).lower()}"
    if kind == "openIdConnect":
        return f"openIdConnect {scheme.get('openIdConnectUrl')}"
    return json.dumps({key: value for key, value in scheme.items() if key != "description"},
                      sort_keys=True)


def _root_cause(exc: BaseException) -> BaseException | None:
    cause = exc.__cause__
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    return cause


def _json_media(node: Mapping[str, Any]) -> Any:
    """The schema of the JSON media type of a request body or response, if it has one."""
    content = node.get("content")
    if not isinstance(content, Mapping):
        return None
    for media_type, media in content.items():
        if "json" in media_type and isinstance(media, Mapping) and "schema" in media:
            return media["schema"]
    return None


def load_document(path: Path, refs: Mapping[str, Path] | None = None) -> OpenAPIDocument:
    """Read an OpenAPI document; a file that is not one raises a UsageError naming it."""
    data = read_data(path, "OpenAPI document")
    if not isinstance(data, Mapping):
        raise UsageError(f"The file {path} is not an OpenAPI document (it is {json_kind(data)}, "
                         "not a JSON object).")
    if not isinstance(data.get("paths"), Mapping):
        raise UsageError(f"The file {path} is not an OpenAPI document (it has no 'paths').")
    if "openapi" not in data:
        # Swagger 2.0 keeps bodies elsewhere; reading it as 3.x would compare nothing, silently.
        raise UsageError(f"The file {path} is not OpenAPI 3 (no 'openapi' version); convert it "
                         "first, for example with swagger2openapi.")
    return OpenAPIDocument(path, data, dict(refs or {}))


def json_kind(value: Any) -> str:
    """`value`'s JSON type with its article, for a sentence: "an array", "a string", "null"."""
    kind = json_type(value)
    kind = "number" if kind == "integer" else kind
    return kind if kind == "null" else f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def unknown_operation(operation_id: str, known: Sequence[str], where: str) -> str:
    close = difflib.get_close_matches(operation_id, known, n=4, cutoff=0.4) or list(known[:4])
    return (f"The operation {operation_id!r} is not in {where}; close ones: "
            f"{', '.join(close) or 'none'}.")


# --- inlining -------------------------------------------------------------------------------------

# Values that are data, not schemas: never searched for references.
_DATA_KEYS = frozenset({"example", "examples", "enum", "const", "default"})
# Values that map names to schemas: each schema is inlined, the map itself is no schema.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                          "dependentSchemas"})


def inline(schema: Any, base: str, lookup: Lookup) -> Schema:
    """`schema` (written in the file at `base`) as a plain tree: references replaced, normalised."""
    result = _inline(schema, base, lookup, ())
    if isinstance(result, bool):
        return {} if result else {"not": {}}
    if not isinstance(result, dict):
        raise UsageError(f"The schema at {base} is not a JSON object.")
    return result


def _inline(node: Any, base: str, lookup: Lookup, stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, base, lookup, stack) for item in node]
    if not isinstance(node, Mapping):
        return node
    if isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        target, uri = lookup(ref, base)
        # A target already being expanded on this branch is a cycle: it stays a marker that says
        # how many references back it leads, so that the same cycle compares equal in two
        # documents whatever their components are named.
        replaced: Any = ({CYCLE_KEY: len(stack) - stack.index(uri)} if uri in stack
                         else _inline(target, urldefrag(uri).url, lookup, (*stack, uri)))
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        if not siblings:
            return replaced
        node = {**siblings, "allOf": [replaced, *siblings.get("allOf", [])]}
    result: Schema = {}
    for key, value in node.items():
        if key in _DATA_KEYS:
            result[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, Mapping):
            result[key] = {name: _inline(sub, base, lookup, stack) for name, sub in value.items()}
        else:
            result[key] = _inline(value, base, lookup, stack)
    return _well_formed(normalise(result), base)


def _well_formed(schema: Schema, base: str) -> Schema:
    """`schema` if the keywords that the diff and the lint read have the JSON shape they need;
    anything else (``type: 5``, ``required: "id"``) is a UsageError naming the file."""
    kinds = schema.get("type")
    if kinds is not None and not (isinstance(kinds, str) or (
            isinstance(kinds, list) and all(isinstance(kind, str) for kind in kinds))):
        raise UsageError(f"A schema in {_file(base)} has \"type\": {show(kinds)}, which is "
                         "neither a type name nor a list of them.")
    required = schema.get("required")
    if required is not None and not (
            isinstance(required, list) and all(isinstance(name, str) for name in required)):
        raise UsageError(f"A schema in {_file(base)} has \"required\": {show(required)}, "
                         "which is not a list of field names.")
    properties = schema.get("properties")
    if properties is not None and not isinstance(properties, Mapping):
        raise UsageError(f"A schema in {_file(base)} has \"properties\": {show(properties)}, "
                         "which is not a JSON object.")
    return schema


def _file(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def normalise(schema: Schema) -> Schema:
    """Merge ``allOf`` into its holder and fold ``nullable``; the shapes every reader expects."""
    parts = schema.get("allOf")
    if isinstance(parts, list) and all(isinstance(part, Mapping) for part in parts):
        merged = {key: value for key, value in schema.items() if key != "allOf"}
        for part in parts:
            merged = merge(merged, dict(part))
        schema = merged
    if schema.get("nullable") is True:
        schema = {key: value for key, value in schema.items() if key != "nullable"}
        kinds = schema.get("type")
        if isinstance(kinds, str):
            schema["type"] = [kinds, "null"]
        elif isinstance(kinds, list) and "null" not in kinds:
            schema["type"] = [*kinds, "null"]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # OpenAPI 3.0 writes `minimum: 0, exclusiveMinimum: true`; 3.1 `exclusiveMinimum: 0`.
        if isinstance(schema.get(exclusive), bool):
            schema = dict(schema)
            if schema.pop(exclusive) and bound in schema:
                schema[exclusive] = schema.pop(bound)
    return schema


def merge(first: Schema, second: Schema) -> Schema:
    """Both schemas at once (allOf): properties and required lists unite, types and enums meet.

    For any other keyword the first schema wins: in the vendor's pattern the holder's own
    description and example are more specific than those of the component it wraps.
    """
    merged = dict(second)
    merged.update(first)
    if isinstance(first.get("properties"), dict) and isinstance(second.get("properties"), dict):
        properties = dict(second["properties"])
        for name, sub in first["properties"].items():
            other = properties.get(name)
            if isinstance(sub, dict) and isinstance(other, dict):
                sub = merge(sub, other)
            properties[name] = sub
        merged["properties"] = properties
    if isinstance(first.get("required"), list) and isinstance(second.get("required"), list):
        merged["required"] = list(dict.fromkeys([*second["required"], *first["required"]]))
    if "type" in first and "type" in second:
        kinds = [kind for kind in _as_list(second["type"]) if kind in _as_list(first["type"])]
        merged["type"] = kinds[0] if len(kinds) == 1 else kinds
    if isinstance(first.get("enum"), list) and isinstance(second.get("enum"), list):
        merged["enum"] = [value for value in first["enum"] if value in second["enum"]]
    for keywords, tighter in ((_UPPER_BOUNDS, min), (_LOWER_BOUNDS, max)):
        for keyword in keywords:
            values = [part[keyword] for part in (first, second) if _is_number(part.get(keyword))]
            if len(values) == 2:
                merged[keyword] = tighter(values)
    return merged


# Bounds that both branches of an allOf impose: the tighter one holds.
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_list(kinds: Any) -> list[Any]:
    return list(kinds) if isinstance(kinds, list) else [kinds]
