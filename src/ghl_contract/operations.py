"""The operation manifest: every operation the product knows, as data (schemas/operations/).

Each file ``schemas/operations/<operationId>.json`` describes one HighLevel operation (its shape is
``operation.schema.json`` beside this module): method and path template, parameters with their
schemas, the request body schema, a body schema per response status, whether a request writes,
and what undoes what it creates. This module is the only place that reads it; nothing else in the
package spells a path, a status table or an operation id.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jsonschema_rs

from ghl_contract.errors import UsageError

OPERATIONS_DIR = "operations"
# The API's routes no operation describes, one file per source spec (optional).
ELSEWHERE_DIR = "other-routes"
# The body schema of an error status an operation does not document: the shape all errors share.
ERROR_FALLBACK = "error.json"
_FORMAT = Path(__file__).resolve().parent / "operation.schema.json"
_PARAMETER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")

Schema = dict[str, Any]


@dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter; `schema` as the manifest writes it (often a $ref)."""

    name: str
    location: str  # "path", "query" or "header"
    required: bool
    schema: Mapping[str, Any]
    description: str | None = None


@dataclass(frozen=True)
class Response:
    """One response status of an operation and the schema its body follows."""

    status: int
    description: str
    schema: str
    example: str | None = None
    observed: bool = False  # sent by the live API, not in HighLevel's documentation
    # Where the body holds the objects the invariants know: "invoice" -> "/invoice" ("" the whole
    # body, "*" every item of an array).
    objects: Mapping[str, str] = field(default_factory=dict)
    # Named examples, where the vendor documents several bodies for the status: name -> path.
    examples: Mapping[str, str] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Find:
    """How to find an object a request may have created when its answer was never seen (a run
    killed while waiting): a listing searched for the name the object carries.

    The name is known before the request is sent: a pointer into the request body
    (`name_in_request`), or the name of the object a path parameter names, which the created one
    takes (`name_of_path`: a conversion's invoice carries its estimate's name).
    """

    operation: str  # the listing's operation id
    query: Mapping[str, str]  # its query; "{location}" and "{name}" are filled in
    items: str  # JSON pointer to the array of objects in the listing's success body
    id: str  # pointers into one listed object: its id, its name, when it was created
    name: str
    created: str | None
    name_in_request: str | None
    name_of_path: str | None
    path_object: str | None  # what the path parameter names (an estimate)


@dataclass(frozen=True)
class Creates:
    """What a successful request creates, where its body says so, what undoes it, and how to
    find it without its answer."""

    object: str
    id: str  # JSON pointer into the success body
    number: str | None
    location: str | None
    undo: Mapping[str, str]  # cleanup mode (delete, void) -> operation id
    find: Find | None = None


@dataclass(frozen=True)
class Operation:
    """One operation of the manifest."""

    id: str
    method: str
    path: str
    summary: str
    description: str
    tags: tuple[str, ...]
    scopes: tuple[str, ...]
    writes: bool
    parameters: tuple[Parameter, ...]
    request: str | None  # the request body's schema name, None when it takes no body
    request_example: str | None
    responses: Mapping[int, Response]
    creates: Creates | None = None
    primary: bool = False
    preflight: bool = False  # the read a live run sends first, to learn the token is accepted

    def __repr__(self) -> str:
        return f"<Operation {self.id}: {self.label}>"

    @property
    def label(self) -> str:
        """The method and path template: `GET /things/{thingId}`."""
        return f"{self.method} {self.path}"

    @property
    def success(self) -> Response:
        """The documented 2xx response (the manifest documents exactly one)."""
        return next(response for response in self.responses.values() if response.success)

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(_PARAMETER.findall(self.path))

    def in_(self, location: str) -> tuple[Parameter, ...]:
        """The parameters in `location` (path, query, header)."""
        return tuple(p for p in self.parameters if p.location == location)

    def expand(self, values: Mapping[str, str]) -> str:
        """The path with each {name} replaced by its value, percent-encoded as one segment."""
        missing = [name for name in self.path_names if name not in values]
        if missing:
            raise UsageError(f"{self.id} needs the path parameter {', '.join(missing)}.")
        return _PARAMETER.sub(lambda m: quote(str(values[m.group(1)]), safe=""), self.path)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """(base path, path parameters) when `path` is this operation's path behind a base
        path ("" or "/v1"...); None otherwise."""
        return _route_match(self.path, path)

    def body_schema(self, status: int) -> str:
        """The schema a response body of `status` is judged by: the documented one, else the
        shape every error shares."""
        response = self.responses.get(status)
        return response.schema if response is not None else ERROR_FALLBACK

    def documents(self, status: int) -> bool:
        return status in self.responses


@cache
def _route_pattern(path: str) -> re.Pattern[str]:
    """The paths of template `path`: literal parts as they are, each {name} one segment; a base
    path may come before, a trailing slash may follow (or not, where the template ends with
    one)."""
    parts = _PARAMETER.split(path.rstrip("/"))
    regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
                    for index, part in enumerate(parts))
    return re.compile(f"(?P<_base>(?:/[^/]+)*?){regex}/?")


def _route_match(template: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(base path, path parameters) when `path` is one of template's paths; None otherwise."""
    found = _route_pattern(template).fullmatch(path)
    if found is None:
        return None
    values = {name: unquote(value) for name, value in found.groupdict().items()
              if name != "_base"}
    return found.group("_base"), values


@dataclass(frozen=True)
class Elsewhere:
    """A route of the API that no operation of the manifest describes (`other-routes/`): known
    so that its requests are not taken for an operation's (the listing of invoice templates is
    no invoice whose id is "template"), and not judged."""

    id: str
    method: str
    path: str

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        return _route_match(self.path, path)


@dataclass(frozen=True)
class Manifest:
    """Every operation of a contract directory, by id, and the API's routes it leaves alone."""

    operations: Mapping[str, Operation]
    elsewhere: tuple[Elsewhere, ...] = ()

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations.values())

    def __len__(self) -> int:
        return len(self.operations)

    @property
    def primary(self) -> Operation:
        return next(operation for operation in self if operation.primary)

    def creating(self, kind: str) -> Operation:
        """The operation that creates objects of `kind` (an estimate...)."""
        found = next((op for op in self if op.creates is not None and op.creates.object == kind),
                     None)
        if found is None:
            raise UsageError(f"No operation of the manifest creates an {kind}.")
        return found

    @property
    def preflight(self) -> Operation | None:
        """The read a live run sends first (the manifest marks at most one)."""
        return next((operation for operation in self if operation.preflight), None)

    def get(self, operation_id: str) -> Operation:
        """The operation `operation_id` names (or its `METHOD /path`); a UsageError naming the
        closest ones otherwise."""
        found = self.operations.get(operation_id)
        if found is None:
            found = next((op for op in self if op.label == operation_id), None)
        if found is None:
            known = list(self.operations)
            close = difflib.get_close_matches(operation_id, known, n=4, cutoff=0.4) or known
            raise UsageError(f"No operation {operation_id!r} in the contract; known: "
                             f"{', '.join(close)}.")
        return found

    def match(self, method: str, path: str, *, based: bool = True
              ) -> tuple[Operation, dict[str, str]] | None:
        """The operation a request's method and URL path belong to, with its path parameters.

        The path may carry a base path before the operation's own (a gateway's `/v1`) unless
        `based` is False (a server matching its own routes). Of several matches the one with the
        shortest base wins, then the one with more literal characters (`/things/list` is a listing,
        not a thing whose id is "list"), then an operation over a route known `elsewhere`; None
        when that is a route of the API the manifest leaves alone.
        """
        method = method.upper()
        best: tuple[int, int, Operation | Elsewhere, dict[str, str]] | None = None
        routes: list[Operation | Elsewhere] = [*self.operations.values(), *self.elsewhere]
        for route in routes:
            if route.method != method:
                continue
            matched = route.match(path)
            if matched is None:
                continue
            base, values = matched
            if base and not based:
                continue
            literal = len(_PARAMETER.sub("", route.path))
            key = (len(base), -literal)
            if best is None or key < best[:2]:
                best = (*key, route, values)
        if best is None or not isinstance(best[2], Operation):
            return None
        return best[2], best[3]


@cache
def _format_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(_FORMAT.read_text(encoding="utf-8")))


def _entry(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"The operation file {path} cannot be read: {exc}.") from None
    error = next(iter(_format_validator().iter_errors(data)), None)
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.instance_path)
        raise UsageError(f"The operation file {path} is not a valid manifest entry: at "
                         f"{where if where != '/' else 'the top level'}, {error.message}.")
    if not isinstance(data, Mapping):  # pragma: no cover - the format requires an object
        raise UsageError(f"The operation file {path} is not a JSON object.")
    return data


def _operation(path: Path, data: Mapping[str, Any]) -> Operation:
    responses = {
        int(status): Response(int(status), entry["description"], entry["schema"],
                              entry.get("example"), bool(entry.get("observed", False)),
                              dict(entry.get("objects", {})), dict(entry.get("examples", {})))
        for status, entry in sorted(data["responses"].items())
    }
    creates = data.get("creates")
    request = data.get("request")
    return Operation(
        id=data["operationId"],
        method=data["method"],
        path=data["path"],
        summary=data["summary"],
        description=data.get("description", data["summary"]),
        tags=tuple(data.get("tags", ())),
        scopes=tuple(data["scopes"]),
        writes=data["writes"],
        parameters=tuple(Parameter(p["name"], p["in"], p["required"], p["schema"],
                                   p.get("description")) for p in data["parameters"]),
        request=request["schema"] if request else None,
        request_example=request.get("example") if request else None,
        responses=responses,
        creates=Creates(creates["object"], creates["id"], creates.get("number"),
                        creates.get("location"), dict(creates.get("undo", {})),
                        _find(creates.get("find")))
        if creates else None,
        primary=bool(data.get("primary", False)),
        preflight=bool(data.get("preflight", False)),
    )


def _find(data: Mapping[str, Any] | None) -> Find | None:
    if data is None:
        return None
    named = data["name_from"]
    return Find(data["operation"], dict(data["query"]), data["items"], data["id"], data["name"],
                data.get("created"), named.get("request"), named.get("path"), named.get("object"))


def load_manifest(directory: Path, schema_names: Collection[str]) -> Manifest:
    """Read ``directory/operations/*.json``; every schema an entry names must be in
    `schema_names` (the contract's files). A broken entry is a UsageError naming its file."""
    folder = directory / OPERATIONS_DIR
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise UsageError(f"The contract {directory} has no operation manifest ({folder}/*.json).")
    operations: dict[str, Operation] = {}
    paths: dict[str, Path] = {}
    for path in files:
        operation = _operation(path, _entry(path))
        _consistent(path, operation, directory, schema_names)
        operations[operation.id], paths[operation.id] = operation, path
    _coherent(folder, operations, paths)
    return Manifest(operations, _elsewhere(directory / ELSEWHERE_DIR))


def _elsewhere(folder: Path) -> tuple[Elsewhere, ...]:
    """The routes of ``other-routes/*.json`` (``{"routes": {id: "METHOD /path"}}``)."""
    routes: list[Elsewhere] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for route_id, route in data["routes"].items():
                method, template = route.split(" ", 1)
                routes.append(Elsewhere(route_id, method.upper(), template))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"The routes file {path} cannot be read: it maps route ids to "
                             f"\"METHOD /path\" under \"routes\" ({exc}).") from None
    return tuple(routes)


def _consistent(path: Path, operation: Operation, directory: Path,
                schema_names: Collection[str]) -> None:
    """One entry agrees with its file name, its path template and the contract's files."""
    def wrong(reason: str) -> UsageError:
        return UsageError(f"The operation file {path} {reason}.")

    if path.stem != operation.id:
        raise wrong(f"describes {operation.id!r}: name the file {operation.id}.json")
    declared = [p.name for p in operation.in_("path")]
    if sorted(declared) != sorted(operation.path_names):
        raise wrong(f"declares the path parameters {declared} for the path {operation.path}")
    successes = [status for status in operation.responses if 200 <= status < 300]
    if len(successes) != 1:
        raise wrong(f"documents {len(successes)} success (2xx) responses; it documents one")
    named = [operation.request] + [r.schema for r in operation.responses.values()]
    for name in named:
        if name is not None and name not in schema_names:
            raise wrong(f"names the schema {name}, which the contract does not have")
    examples = [operation.request_example] + [
        example for response in operation.responses.values()
        for example in (response.example, *response.examples.values())]
    for example in examples:
        if example is not None and not (directory / example).is_file():
            raise wrong(f"names the example {example}, which does not exist")


def _coherent(folder: Path, operations: Mapping[str, Operation],
              paths: Mapping[str, Path]) -> None:
    """The entries agree with each other: one primary, unique routes, known undo operations,
    at most one preflight read. Each file's name is its operation's id (checked first), so ids
    are unique."""
    checks = [op.id for op in operations.values() if op.preflight]
    if len(checks) > 1 or any(operations[op].writes for op in checks):
        raise UsageError(f"The operation files {', '.join(str(paths[i]) for i in checks)} are "
                         "marked preflight; at most one is, and it does not write.")
    primary = [op.id for op in operations.values() if op.primary]
    if not primary:
        raise UsageError(f"No operation file in {folder} is marked primary; exactly one is.")
    if len(primary) > 1:
        raise UsageError(f"The operation files {', '.join(str(paths[i]) for i in primary)} are "
                         "each marked primary; exactly one is.")
    routes: dict[tuple[str, str], str] = {}
    for op in operations.values():
        route = (op.method, _PARAMETER.sub("{}", op.path))
        if route in routes:
            raise UsageError(f"The operation file {paths[op.id]} has the route {op.label}, "
                             f"which {paths[routes[route]]} has too.")
        routes[route] = op.id
        for mode, undo in (op.creates.undo.items() if op.creates else ()):
            target = operations.get(undo)
            if target is None:
                raise UsageError(f"The operation file {paths[op.id]} is undone ({mode}) by "
                                 f"{undo!r}, which the manifest does not have.")
            if len(target.path_names) != 1:
                raise UsageError(f"The operation file {paths[op.id]} is undone ({mode}) by "
                                 f"{undo}, which takes {len(target.path_names)} path parameters; "
                                 "it takes the created id as its one.")
        find = op.creates.find if op.creates else None
        if find is not None:
            _findable(paths[op.id], op, find, operations)


def _findable(path: Path, op: Operation, find: Find, operations: Mapping[str, Operation]) -> None:
    """A `find` names a listing that reads, with the query parameters it takes, and a path
    parameter the operation has."""
    listing = operations.get(find.operation)
    if listing is None or listing.writes:
        raise UsageError(f"The operation file {path} is found by {find.operation!r}, which the "
                         "manifest does not have as an operation that only reads.")
    unknown = sorted(set(find.query) - {p.name for p in listing.in_("query")})
    if unknown:
        raise UsageError(f"The operation file {path} finds with the query parameters "
                         f"{', '.join(unknown)}, which {listing.id} does not take.")
    if find.name_of_path is not None and find.name_of_path not in op.path_names:
        raise UsageError(f"The operation file {path} takes the name of the path parameter "
                         f"{find.name_of_path!r}, which {op.label} does not have.")
    creators = [o for o in operations.values() if o.creates and o.creates.find
                and o.creates.object == find.path_object and o.creates.find.name_in_request]
    if find.path_object is not None and not creators:
        raise UsageError(f"The operation file {path} takes the name of a {find.path_object}, "
                         "which no operation of the manifest creates with a findable name.")
