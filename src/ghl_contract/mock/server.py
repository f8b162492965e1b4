"""Runs an ASGI app with uvicorn in a thread on loopback: for tests, the suite and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import uvicorn

from ghl_contract.errors import UsageError

A = TypeVar("A", bound=Callable[..., Any])  # an ASGI app

STARTUP_TIMEOUT = 10.0  # seconds for uvicorn to start listening
SHUTDOWN_TIMEOUT = 10.0  # seconds for the thread to end once asked to stop
# An answer still running at shutdown (a slow fault) is cancelled after this many seconds.
GRACEFUL_SHUTDOWN = 2

_INCOMPLETE = "ASGI callable returned without completing response."


class _DeliberateResetFilter(logging.Filter):
    """Drops uvicorn's error line for a response left incomplete on purpose.

    The `reset` fault profile ends its answer mid-body so that the server drops the connection;
    uvicorn logs that as an error, which here is the intended behaviour, not news.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _INCOMPLETE


def _quiet_resets() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, _DeliberateResetFilter) for existing in logger.filters):
        logger.addFilter(_DeliberateResetFilter())


class _PromptServer(uvicorn.Server):
    """uvicorn's Server, woken as soon as it is told to stop.

    uvicorn's main loop looks at `should_exit` every 0.1 s; a mock started and stopped around
    every run and many tests would spend half of that, on average, each time it stops.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        tick = 0
        while not await self.on_tick(tick):  # its date header and should_exit, as uvicorn's
            tick = (tick + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def stop(self) -> None:
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(wake.set)


@dataclass(frozen=True)
class Running(Generic[A]):
    """A started server: where it listens and the app it serves."""

    url: str
    app: A
    host: str
    port: int
    thread: threading.Thread = field(repr=False, compare=False)  # uvicorn's; ends when it stops
    # Set when uvicorn's thread has ended. Wait on it, not on `thread.join(timeout)`: a Ctrl-C
    # that lands inside a join marks the thread ended while it still runs (CPython 3.11's
    # bpo-45274 handling), and the socket would be closed under the server's feet.
    ended: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)


def _bind(host: str, port: int) -> socket.socket:
    try:
        # proto must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say
        # so, and without it every answer written in two parts waits 40 ms for a delayed ACK.
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[0]
    except socket.gaierror as exc:
        raise UsageError(f"The host {host!r} cannot be resolved: {exc.strerror}.") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    return sock


@contextmanager
def serve(app: A, host: str = "127.0.0.1", port: int = 0, *,
          server_headers: bool = True) -> Iterator[Running[A]]:
    """Serve `app` on `host:port` (0: a free port) until the block ends; yields its URL.

    `server_headers`: uvicorn adds its Date and Server headers to every answer (a proxy, whose
    answers are the upstream's, adds none)."""
    sock = _bind(host, port)
    real_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, lifespan="on",
        proxy_headers=False,  # loopback, no proxy in front: the client address is the peer's
        # httptools when installed (2.5 times h11's throughput here, see bench/mock_load.py), else
        # h11; the event loop stays asyncio's, so that threads and tests behave the same.
        http="auto", loop="asyncio",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        server_header=server_headers, date_header=server_headers,
    )
    _quiet_resets()
    # Off the main thread uvicorn leaves signals alone: Ctrl-C stays the caller's to handle.
    server = _PromptServer(config)
    failure: list[BaseException] = []
    ended = threading.Event()

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # uvicorn exits with SystemExit; told to the caller below
            failure.append(exc)
        finally:
            ended.set()

    thread = threading.Thread(target=run, name=f"ghl-contract-mock-{real_port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                reason = f" ({failure[0]!r})" if failure else ""
                raise RuntimeError(f"The mock server did not start on {host}:{real_port}{reason}.")
            time.sleep(0.005)
        shown = f"[{host}]" if ":" in host else host
        yield Running(f"http://{shown}:{real_port}", app, host, real_port, thread, ended)
    finally:
        server.stop()
        ended.wait(SHUTDOWN_TIMEOUT)
        sock.close()
