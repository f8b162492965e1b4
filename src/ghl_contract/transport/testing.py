"""Small misbehaving HTTP servers on 127.0.0.1 for the transport's tests (and the suite's).

`serve(behaviour)` runs a raw HTTP/1.1 server in threads on an ephemeral loopback port; the
behaviour decides, per request, to answer, drop the connection, hang, reset, or send raw bytes at
its own pace. Raw sockets, so it can do what a well-behaved ASGI app cannot: lie about
Content-Length, close mid-answer, send RST, trickle its headers, send `102 Processing` forever.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson

from ghl_contract.operations import Operation
from ghl_contract.registry import pinned
from ghl_contract.settings import RunSettings
from ghl_contract.transport.client import Client
from ghl_contract.transport.exchange import Exchange

_POLL = 0.05  # seconds between checks for shutdown while a connection waits
_IDLE = 10.0  # a keep-alive connection idle this long is closed by the server
_SEND = 10.0  # seconds an answer may take to be sent


@dataclass(frozen=True)
class Received:
    """A request as it reached the server."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.monotonic() when its last byte arrived


@dataclass(frozen=True)
class Reply:
    """An answer. `declared_length` lies about Content-Length (a cut body); `close` ends the
    connection after it; `delay` waits before answering."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    declared_length: int | None = None
    delay: float = 0.0
    close: bool = False


@dataclass(frozen=True)
class Drop:
    """Read the request, then close the connection without a byte of answer."""


@dataclass(frozen=True)
class Hang:
    """Read the request, send nothing for `seconds` (or until the server stops), then close."""

    seconds: float = 30.0


@dataclass(frozen=True)
class Reset:
    """Read the request, then abort the connection (TCP RST)."""


@dataclass(frozen=True)
class Raw:
    """Read the request, then send `parts` as they are, `interval` seconds apart, until they run
    out (an endless iterator: until the client goes away or the server stops); then close."""

    parts: Iterable[bytes]
    interval: float = 0.0


Action = Reply | Drop | Hang | Reset | Raw
Behaviour = Callable[[Received, int], Action]  # (request, its 0-based index) -> what to do


def json_reply(status: int, data: Any, headers: tuple[tuple[str, str], ...] = (),
               **options: Any) -> Reply:
    """A JSON answer with Content-Type application/json."""
    return Reply(status, (("Content-Type", "application/json"), *headers), orjson.dumps(data),
                 **options)


def invoice_reply(number: int, estimate_id: str = "est-1") -> Reply:
    """A 200 answer to a write: the invoice created, with a distinct id and number."""
    return json_reply(200, {"estimate": {"_id": estimate_id},
                            "invoice": {"_id": f"inv-{number}", "invoiceNumber": str(number),
                                        "altId": "loc-1"}})


@dataclass
class LoopbackServer:
    """A running server: its URL and every request that reached it."""

    url: str
    requests: list[Received] = field(default_factory=list)
    connections: int = 0  # connections accepted
    errors: list[str] = field(default_factory=list)  # the server's own failures (a test bug)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: Behaviour, accept_and_close: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.accept_and_close = accept_and_close
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        host, port = self.server_address[:2]
        self.state = LoopbackServer(url=f"http://{host!s}:{port}")

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Kept for the test to see instead of printed: a test's captured stderr stays its own.
        with self.lock:
            self.state.errors.append(traceback.format_exc())


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        conn: socket.socket = self.request
        server = self.server
        with server.lock:
            server.state.connections += 1
        if server.accept_and_close:
            return
        conn.settimeout(_POLL)
        buffer = b""
        while not server.stopping.is_set():
            parsed = self._read_request(conn, buffer)
            if parsed is None:
                return
            received, buffer = parsed
            with server.lock:
                index = len(server.state.requests)
                server.state.requests.append(received)
            if not self._act(conn, server.behaviour(received, index)):
                return

    def _recv(self, conn: socket.socket, idle_until: float) -> bytes | None:
        """Next bytes; None when the peer closed, the connection idled out or the server stops."""
        while not self.server.stopping.is_set() and time.monotonic() < idle_until:
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None
            return data or None
        return None

    def _read_request(self, conn: socket.socket, buffer: bytes) -> tuple[Received, bytes] | None:
        idle_until = time.monotonic() + _IDLE
        while b"\r\n\r\n" not in buffer:
            data = self._recv(conn, idle_until)
            if data is None:
                return None
            buffer += data
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            data = self._recv(conn, idle_until)
            if data is None:
                return None
            rest += data
        received = Received(method, path, headers, rest[:length], time.monotonic())
        return received, rest[length:]

    def _act(self, conn: socket.socket, action: Action) -> bool:
        """Carry out the action; True when the connection stays open for the next request."""
        if isinstance(action, Drop):
            return False
        if isinstance(action, Hang):
            self.server.stopping.wait(action.seconds)
            return False
        if isinstance(action, Reset):
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return False
        if isinstance(action, Raw):
            conn.settimeout(_SEND)
            for part in action.parts:
                try:
                    conn.sendall(part)
                except OSError:  # the client has gone
                    return False
                if self.server.stopping.wait(action.interval):
                    return False
            return False
        if action.delay and self.server.stopping.wait(action.delay):
            return False
        try:
            phrase = HTTPStatus(action.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {action.status} {phrase}"]
        lines += [f"{name}: {value}" for name, value in action.headers]
        length = len(action.body) if action.declared_length is None else action.declared_length
        lines.append(f"Content-Length: {length}")
        if action.close or action.declared_length is not None:
            lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + action.body
        conn.settimeout(_SEND)  # a large answer to a busy client needs more than a poll's time
        try:
            conn.sendall(data)
        except OSError:
            return False
        finally:
            conn.settimeout(_POLL)
        return not (action.close or action.declared_length is not None)


@contextlib.contextmanager
def serve(behaviour: Behaviour, *, accept_and_close: bool = False) -> Iterator[LoopbackServer]:
    """Run a server on 127.0.0.1 (ephemeral port) for the `with` block.

    `accept_and_close`: every connection is closed as soon as it is accepted, before any read.
    """
    server = _TCPServer(behaviour, accept_and_close)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": _POLL},
                              name="loopback-server", daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()  # joins the connection threads, which end within _POLL
        thread.join()


@contextlib.contextmanager
def refused_url() -> Iterator[str]:
    """A loopback URL whose port refuses connections: bound (so no one else takes it), not
    listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"


TOKEN = "canary-7f3a9c"  # the run's valid token in tests: it must show up nowhere
LOCATION_ID = "loc-1"
ESTIMATE_ID = "est-1"


def live_settings(base_url: str, **overrides: Any) -> RunSettings:
    """Settings of a live run against `base_url` (a loopback server), with the canary token and a
    rate limit high enough not to slow a test down unless the test sets one."""
    values: dict[str, Any] = {"base_url": base_url, "token": TOKEN, "location_id": LOCATION_ID,
                              "estimate_id": ESTIMATE_ID, "rate_limit": (1000, 1.0),
                              "request_timeout": 2.0, "run_timeout": 60.0}
    return RunSettings(**{**values, **overrides})


def mock_settings(**overrides: Any) -> RunSettings:
    """Settings of a run against the embedded mock: not live, so no budget and no rate limit."""
    values: dict[str, Any] = {"token": TOKEN, "request_timeout": 2.0, "run_timeout": 60.0}
    return RunSettings(**{**values, **overrides})


def convert(client: Client, body: Any, *, estimate_id: str = ESTIMATE_ID,
            headers: Mapping[str, str | None] | None = None,
            note: Mapping[str, Any] | None = None) -> Exchange:
    """The manifest's primary request (an estimate converted into an invoice), through `client`."""
    operation: Operation = pinned().manifest.primary
    return client.request(operation, path={operation.path_names[0]: estimate_id}, body=body,
                          headers=headers, note=note)
