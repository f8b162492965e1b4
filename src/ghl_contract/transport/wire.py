"""The wire: httpx's HTTP transport whose every socket read and write ends by a deadline.

httpx's timeouts bound each read, so a server sending its headers one byte a second, or `102
Processing` answers without end, holds a request forever. Here the network backend gives each
read and write only the time left until the current passage's deadline: the status line and
headers (1xx answers included) by the header deadline, the whole exchange by the attempt's.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable, Iterable

import httpcore
import httpx

from ghl_contract.transport.limits import Limits
from ghl_contract.transport.passage import Passage, current_until


class _BoundedStream(httpcore.NetworkStream):
    """A connection whose reads and writes end by the current passage's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _BoundedStream(self._stream.start_tls(
            ssl_context, server_hostname, _within(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    """The default network backend, every connection bounded (`_BoundedStream`)."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        return _BoundedStream(self._backend.connect_tcp(
            host, port, _within(timeout, httpcore.ConnectTimeout), local_address,
            socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                            ) -> httpcore.NetworkStream:
        return _BoundedStream(self._backend.connect_unix_socket(
            path, _within(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _within(timeout: float | None, error: type[Exception]) -> float | None:
    """The timeout of one socket operation: at most the time left until the deadline."""
    left = current_until() - time.monotonic()
    if left <= 0:
        raise error("the exchange's deadline passed")
    return left if timeout is None else min(timeout, left)


class WireTransport(httpx.HTTPTransport):
    """Sends one attempt within `limits`: its headers by the header deadline, all of it (the body
    the caller reads afterwards too) by the attempt's, never past the run's (`time_left`)."""

    def __init__(self, limits: Limits, time_left: Callable[[], float], *,
                 proxy: str | None = None, trust_env: bool = True) -> None:
        super().__init__(proxy=proxy, trust_env=trust_env)
        # httpx builds its httpcore pool with the default network backend and offers no way to
        # choose another; every connection the pool opens goes through this one.
        pool = self._pool
        pool._network_backend = _BoundedBackend(pool._network_backend)
        self.limits, self._time_left = limits, time_left
        self.sent = 0  # attempts that went to the network

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        passage = Passage.of(request)
        passage.timeout = max(min(self.limits.request_timeout, self._time_left()), 0.0)
        passage.header_timeout = min(passage.timeout, self.limits.header_timeout)
        passage.headers_arrived = False
        started = time.monotonic()
        passage.until = started + passage.header_timeout
        self.sent += 1
        response = super().handle_request(request)
        passage.headers_arrived = True
        passage.until = started + passage.timeout  # the body, which the caller reads, by then
        return response
