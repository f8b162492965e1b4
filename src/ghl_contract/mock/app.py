"""The mock of HighLevel's operations: a plain ASGI app that routes by the manifest to one
handler per operation, over one Store.

The checks run in a fixed order for every operation: rate limit (429), route (404), token (401),
Version header (400), body as it travelled (400, 413), path and query parameters (422), body
against the operation's request schema (422), then the handler's own: unknown id (404), another
location (403), a state that forbids it (400); see docs/mock.md. Request rules are never written
here: headers, parameters and bodies are validated against the contract's own schemas
(headers.json, the manifest's parameters, each operation's request schema) and the 422 messages
are that validation's, one per problem, each naming its field (validation.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import jsonschema_rs
import orjson

from ghl_contract.errors import UsageError
from ghl_contract.mock.behaviour import BEHAVIOURS, Behaviour
from ghl_contract.mock.handlers import HANDLERS, Call, Handler
from ghl_contract.mock.patch import Edit, Unreachable, apply
from ghl_contract.mock.profiles import (
    DRIFT_PROFILES,
    FAULT_PROFILES,
    DriftProfile,
    FaultProfile,
)
from ghl_contract.mock.ratelimit import RateLimiter, Verdict
from ghl_contract.mock.seed import Seed, load_seed
from ghl_contract.mock.store import Access, Refused, Store
from ghl_contract.mock.validation import RequestRules
from ghl_contract.operations import Operation
from ghl_contract.registry import pinned

Scope = Mapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The mock's own routes, outside the API: its state, for a test that runs it as another process.
STORE_ROUTE = "/__mock__/invoices"
ESTIMATES_ROUTE = "/__mock__/estimates"
MAX_BODY = 100 * 1024  # the JSON body limit of express, which HighLevel's NestJS services run on

JSON = b"application/json; charset=utf-8"
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server sent an invalid response.</p>"
    b"</body></html>\n"
)


# Refusals of any operation: (status, message, the status's name NestJS adds).
UNAUTHORIZED = (401, "Invalid token: access token is invalid", "Unauthorized")
TOO_MANY = (429, "Too many requests", None)
TOO_LARGE = (413, "request entity too large", "Payload Too Large")
SERVER_ERROR = (500, "Internal server error", None)

P = TypeVar("P", DriftProfile, FaultProfile, Behaviour)


@dataclass
class Answer:
    """A response before it is sent, so that drifts and faults can change it."""

    status: int
    body: bytes
    content_type: bytes = JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def _json(status: int, payload: Any) -> Answer:
    return Answer(status, orjson.dumps(payload))


def _refusal(refused: Refused) -> Answer:
    return _json(refused.status, refused.body())


def _profile(table: Mapping[str, P], name: str | None, kind: str) -> P | None:
    if name is None:
        return None
    try:
        return table[name]
    except KeyError:
        raise UsageError(
            f"Unknown {kind} profile {name!r}; choose one of {', '.join(table)}."
        ) from None


def _headers(scope: Scope, names: Mapping[bytes, str]) -> dict[str, str]:
    """The request headers the contract describes, under its spelling (`names`: wire -> it)."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = names.get(raw_name.lower())
        if name is not None and name not in found:
            found[name] = raw_value.decode("latin-1")
    return found


@dataclass(frozen=True)
class Route:
    """One operation the mock serves: its handler, what it accepts, how the profile edits its
    success answers."""

    operation: Operation
    handler: Handler
    rules: RequestRules
    edits: tuple[Edit, ...]  # the behaviour profile's edits of its success answers


def _header_field(error: jsonschema_rs.ValidationError) -> str:
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
        return str(error.kind.property)
    return str(error.instance_path[0]) if error.instance_path else ""


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; whatever is answered will not be read
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _delay(receive: Receive, seconds: float) -> bool:
    """Wait `seconds`; False if the client hung up first (then nothing is left to answer)."""
    watcher = asyncio.ensure_future(_until_disconnect(receive))
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    return not done


async def _send(send: Send, answer: Answer, *, announce: int | None = None,
                complete: bool = True) -> None:
    length = len(answer.body) if announce is None else announce
    headers = [(b"content-type", answer.content_type),
               (b"content-length", b"%d" % length), *answer.headers]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": not complete})


class MockApp:
    """HighLevel's operations of the manifest, faithful to its documentation (or, with
    `profile="observed"`, to what the live API was seen to do).

    `drift` names a DriftProfile applied to the answers of its operation and status; `fault` names
    a FaultProfile applied to every request to the API; `rate_limit` is (requests, seconds) per
    location. `store` holds the state; `seed` is what it started from.
    """

    def __init__(self, seed: Seed | None = None, *, profile: str = "documented",
                 drift: str | None = None, fault: str | None = None,
                 rate_limit: tuple[int, float] = (100, 10.0), fault_delay: float = 15.0) -> None:
        self.seed = load_seed() if seed is None else seed
        behaviour = _profile(BEHAVIOURS, profile, "behaviour")
        assert behaviour is not None
        self.behaviour = behaviour
        self.store = Store(self.seed, behaviour)
        self.drift = _profile(DRIFT_PROFILES, drift, "drift")
        self.drifted = 0  # answers the drift profile changed (none: no request reached it)
        self.fault = _profile(FAULT_PROFILES, fault, "fault")
        self.limiter = RateLimiter(*rate_limit)
        self.fault_delay = fault_delay
        self._locations = {location.token: location.location_id for location in self.seed.locations}
        contract = pinned()
        self._manifest = contract.manifest
        self.routes = {
            op.id: Route(op, HANDLERS[op.id], RequestRules(contract, op, behaviour),
                         behaviour.answer_edits(op.id, op.success.status))
            for op in self._manifest if op.id in HANDLERS}
        headers = contract.schema("headers.json")["properties"]
        self.versions: tuple[str, ...] = tuple(headers["Version"]["enum"])
        self._header_names = {name.lower().encode(): name for name in headers}
        self._header_validator = contract.validator("headers.json")
        self._own = {STORE_ROUTE: self.store.invoices_json,
                     ESTIMATES_ROUTE: self.store.estimates_json}

    @property
    def served(self) -> list[Operation]:
        """The operations the mock serves, in the manifest's order."""
        return [route.operation for route in self.routes.values()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here: the server closes the connection
        method, path = scope["method"], scope["path"]
        own = self._own.get(path) if method == "GET" else None
        if own is not None:
            await _send(send, Answer(200, own()))
            return
        headers = _headers(scope, self._header_names)
        token = self._token(headers)
        location = self._locations.get(token) if token is not None else None
        # Per location as HighLevel counts; a request no location can be named for counts
        # against its token (or, without one, against everyone without one).
        key = f"location:{location}" if location else f"token:{token}" if token else "anonymous"
        verdict = self.limiter.hit(key)
        match = self._manifest.match(method, path, based=False)
        route = self.routes.get(match[0].id) if match is not None else None
        if match is None or route is None:
            # NestJS's answer to a route it does not have.
            answer = _json(404, {"statusCode": 404, "message": f"Cannot {method} {path}",
                                 "error": "Not Found"})
            await self._finish(send, answer, verdict, fault=None, route=None)
            return
        body = await _read_body(receive)
        fault = self.fault
        slow = fault is not None and fault.name == "slow"
        if slow and not await _delay(receive, self.fault_delay):
            return
        if fault is not None and not fault.processes:
            answer = (Answer(200, HTML_PAGE, b"text/html; charset=utf-8")
                      if fault.name == "html" else _refusal(Refused(*SERVER_ERROR)))
        elif not verdict.allowed:
            answer = _refusal(Refused(*TOO_MANY))
        else:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"),
                                   keep_blank_values=True))
            answer = self._answer(route, match[1], query, headers, location, body)
        await self._finish(send, answer, verdict, fault=fault, route=route)

    def _token(self, headers: Mapping[str, str]) -> str | None:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        return token if scheme == "Bearer" and token else None

    def _answer(self, route: Route, path: dict[str, str], query: dict[str, str],
                headers: Mapping[str, str], location: str | None, body: bytes | None) -> Answer:
        """The operation's answer when nothing is broken on purpose."""
        try:
            call = self._checked(route, path, query, headers, location, body)
            return Answer(route.operation.success.status, route.handler(self.store, call))
        except Refused as refused:
            return _refusal(refused)

    def _checked(self, route: Route, path: dict[str, str], query: dict[str, str],
                 headers: Mapping[str, str], location: str | None, body: bytes | None) -> Call:
        """The call its handler gets, once every check has passed; Refused at the first that
        fails."""
        operation = route.operation
        problems = {_header_field(error) for error in self._header_validator.iter_errors(headers)}
        if "Authorization" in problems or location is None:
            raise Refused(*UNAUTHORIZED)
        if "Version" in problems:
            version = headers.get("Version")
            said = "is missing" if version is None else f"{version!r} is not supported"
            raise Refused(400, f"The Version header {said}; send one of "
                               f"{', '.join(self.versions)}.")
        sent: Any = query
        if operation.request is not None:
            sent = self._body(body, "Content-Type" in problems)
        messages = (route.rules.parameter_problems("path", path)
                    or route.rules.parameter_problems("query", query)
                    or (route.rules.body_problems(sent) if operation.request is not None else []))
        if messages:
            raise Refused(422, messages, "Unprocessable Entity")
        database = route.rules.database_problem(sent) if operation.request is not None else None
        if database is not None:
            raise Refused(500, database)
        target = path[operation.path_names[0]] if operation.path_names else ""
        return Call(operation, target, sent, Access(location, sent.get("altId")),
                    datetime.now(UTC))

    def _body(self, body: bytes | None, wrong_type: bool) -> Any:
        """The request body as JSON; Refused as it travelled (400, 413)."""
        if wrong_type:
            raise Refused(400, "The Content-Type header must be application/json.")
        if body is None:
            raise Refused(*TOO_LARGE)
        if not body.strip():
            if self.behaviour.empty_body_is_object:
                return {}  # NestJS's body parser: no body is an empty object
            raise Refused(400, "The request body is empty.")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise Refused(400, f"The request body is not valid JSON: {exc}.") from None

    def _edited(self, answer: Answer, route: Route,
                rate_headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """Make the behaviour profile's and the drift profile's edits of a JSON answer; the
        rate-limit headers it then carries."""
        if answer.content_type != JSON:
            return rate_headers  # a fault's page: nothing of the API's to edit
        if route.edits and answer.status == route.operation.success.status:
            answer.body = orjson.dumps(apply(orjson.loads(answer.body), route.edits))
        drift = self.drift
        if drift is None or not drift.changes(route.operation.id, answer.status):
            return rate_headers
        changed = bool(drift.drop_headers)
        if drift.patch:
            try:
                answer.body = orjson.dumps(drift.change(orjson.loads(answer.body)))
                changed = True
            except Unreachable:
                pass  # the profile's answer lacks what the drift changes: left as it is
        self.drifted += changed
        return [header for header in rate_headers if not drift.drops(header[0])]

    async def _finish(self, send: Send, answer: Answer, verdict: Verdict,
                      fault: FaultProfile | None, route: Route | None) -> None:
        rate_headers = verdict.headers()
        answer.headers.extend(rate_headers if route is None else
                              self._edited(answer, route, rate_headers))
        if fault is None or fault.name in ("slow", "server-error", "html"):
            await _send(send, answer)
        elif fault.name == "reset":
            # Announce the whole body, send half, return: the server then drops the connection.
            answer.body, full = answer.body[: len(answer.body) // 2], max(1, len(answer.body))
            await _send(send, answer, announce=full, complete=False)
        elif fault.name == "truncated-json":
            answer.body = answer.body[: max(1, len(answer.body) // 2)]
            await _send(send, answer)
        elif fault.name == "wrong-content-type":
            answer.content_type = b"text/plain; charset=utf-8"
            await _send(send, answer)
        elif fault.name == "empty-body":
            answer.body = b""
            await _send(send, answer)
        else:  # pragma: no cover - every profile is handled above (tests assert it)
            raise AssertionError(f"fault profile {fault.name!r} has no behaviour")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
