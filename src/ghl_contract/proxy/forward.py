"""The proxy itself: an ASGI app that forwards each request to the upstream and relays its answer.

A request goes on as it came (method, raw path and query, end-to-end headers with the client's own
Authorization, body bytes) through the upstream's client (`upstream.Upstream`), whose pool keeps
the upstream's connections alive. The answer comes back as it was sent (status, end-to-end
headers, the body's bytes with their content coding), streamed chunk by chunk as they arrive;
only then is the exchange handed to the session to judge, off the answer's path. With --enforce
the answer of a known operation is held until judged, and replaced by a 502 listing its findings
if it breaks the contract. An upstream that gives no complete answer in time is a finding, and
the client gets a 502 (or, once the answer's head has gone, a connection closed as the upstream
closed it): never a hang. Bodies are kept for the judge up to a bound; past it they are
forwarded, not judged.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx

from ghl_contract.proxy.answers import ENFORCED, SHUTDOWN, UPSTREAM_FAULT, bad_gateway
from ghl_contract.proxy.exchange import Forwarded
from ghl_contract.proxy.redaction import Secrets
from ghl_contract.proxy.session import Session
from ghl_contract.proxy.upstream import Answer, Upstream
from ghl_contract.proxy.wire import RawHeaders, end_to_end
from ghl_contract.registry import pinned

Scope = Mapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# What can go wrong between the proxy and the upstream: the client's errors (as httpx's, see
# upstream.py) and the exchange's deadline.
UPSTREAM_ERRORS = (httpx.HTTPError, httpx.InvalidURL, TimeoutError)


class ClientGone(Exception):
    """The client disconnected before its request was whole: there is nothing to forward."""


async def read_request(receive: Receive, limit: int) -> tuple[bytes, AsyncIterator[bytes] | None]:
    """The request body: (all of it, None) within `limit` bytes; past it (the first part, the
    rest as it comes), so that a large body is forwarded without being held."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None
        if size > limit:
            return b"".join(chunks), _rest(receive)


async def _rest(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client left: the upstream sees the body end short
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _chained(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


class ProxyApp:
    """Forwards to `upstream` (a base URL, its path put before every request's); see the module
    docstring. The upstream's client is made at the server's start-up (lifespan)."""

    def __init__(self, upstream: str, session: Session, secrets: Secrets, *, enforce: bool,
                 timeout: float, max_body: int) -> None:
        self._base = upstream.rstrip("/")
        self._session = session
        self._secrets = secrets
        self._upstream: Upstream | None = None
        self._enforce = enforce
        self._timeout = timeout
        self._max_body = max_body
        self._manifest = pinned().manifest
        self._numbers = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._exchange(scope, receive, send)
        # Anything else (a websocket) is refused: the server closes the connection.

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._upstream = Upstream(self._base)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._upstream is not None:
                    await self._upstream.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _exchange(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        deadline = asyncio.get_running_loop().time() + self._timeout
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope.get("query_string", b"")
        headers = end_to_end(scope["headers"])
        self._secrets.learn(headers)
        method, path = scope["method"], raw_path.decode("latin-1")
        # The upstream's own base path goes before every request's (--upstream https://gw/v1):
        # a request's path is the API's from its root, never guessed behind a prefix, so that
        # `/reports/invoices` is not taken for list-invoices behind a base path "/reports".
        matched = self._manifest.match(method, path, based=False)
        try:
            body, rest = await read_request(receive, self._max_body)
        except ClientGone:
            return  # nothing was forwarded: nothing to judge
        forwarded = Forwarded(
            number=next(self._numbers), method=method, path=path,
            query=query.decode("latin-1"), operation=matched[0] if matched else None,
            parameters=matched[1] if matched else {}, request_headers=headers,
            request_body=body if rest is None else None, started_at=time.time())
        head_sent = False

        async def relaying(message: Message) -> None:
            nonlocal head_sent
            head_sent = head_sent or message["type"] == "http.response.start"
            await send(message)

        try:
            response = await self._send(forwarded, raw_path, query,
                                        body if rest is None else _chained(body, rest), deadline)
            if response is None:
                await self._answer_fault(relaying, forwarded, started)
            elif self._enforce and forwarded.operation is not None:
                await self._relay_judged(relaying, forwarded, response, deadline, started)
            else:
                await self._relay(relaying, forwarded, response, deadline)
        except asyncio.CancelledError:
            # The server's grace period ended with this exchange in flight: the proxy stops.
            # The client gets a 503 if nothing of the answer has gone yet, else a closed
            # connection; either way the task ends here, quietly, as the server asked.
            forwarded.shutdown = True
            if not head_sent:
                headers, answer = bad_gateway(
                    SHUTDOWN, "ghl-contract proxy: stopped before the upstream answered.", (),
                    self._secrets, status=503)
                await _answer(send, 503, headers, answer)
        finally:
            if not forwarded.handed:  # judged later, off the answer's path
                forwarded.elapsed = time.perf_counter() - started
                self._session.submit(forwarded)

    async def _send(self, forwarded: Forwarded, raw_path: bytes, query: bytes,
                    content: bytes | AsyncIterator[bytes], deadline: float
                    ) -> Answer | None:
        """The upstream's answer, its body not read yet; None (and the fault noted) if none."""
        assert self._upstream is not None, "the server's start-up creates the client"
        target = raw_path + (b"?" + query if query else b"")
        try:
            async with asyncio.timeout_at(deadline):
                return await self._upstream.send(forwarded.method, target,
                                                 forwarded.request_headers, content)
        except UPSTREAM_ERRORS as exc:
            forwarded.fault = exc
            return None

    async def _answer_fault(self, send: Send, forwarded: Forwarded, started: float) -> None:
        """The upstream gave no answer: a 502 listing what the session found."""
        forwarded.elapsed = time.perf_counter() - started
        verdict = await asyncio.wrap_future(self._session.verdict(forwarded))
        fault = forwarded.fault
        cause = str(fault) or type(fault).__name__
        headers, body = bad_gateway(
            UPSTREAM_FAULT, f"ghl-contract proxy: the upstream gave no complete answer ({cause}).",
            verdict.findings, self._secrets)
        await _answer(send, 502, headers, body)

    async def _relay(self, send: Send, forwarded: Forwarded, response: Answer,
                     deadline: float) -> None:
        """Relay the answer as it comes, keeping a copy within the bound for the judge. A fault
        after the head has gone leaves the answer incomplete: the client's connection closes."""
        forwarded.status = response.status
        forwarded.response_headers = end_to_end(response.headers, host=True)
        await send({"type": "http.response.start", "status": response.status,
                    "headers": forwarded.response_headers})
        kept: bytearray | None = bytearray()
        try:
            whole = response.whole()
            if whole is not None:  # it came with its head: relayed in one message, no wait
                forwarded.response_body = whole if len(whole) <= self._max_body else None
                await send({"type": "http.response.body", "body": whole, "more_body": False})
                return
            async with asyncio.timeout_at(deadline):
                async for chunk in response.chunks():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    if kept is not None:
                        kept += chunk
                        if len(kept) > self._max_body:
                            kept = None  # forwarded on, no longer kept
            forwarded.response_body = bytes(kept) if kept is not None else None
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except UPSTREAM_ERRORS as exc:
            forwarded.fault = exc
            forwarded.response_body = bytes(kept) if kept is not None else None
        finally:
            response.close()

    async def _relay_judged(self, send: Send, forwarded: Forwarded, response: Answer,
                            deadline: float, started: float) -> None:
        """--enforce: read the whole answer, have it judged, then relay it or a 502 instead."""
        forwarded.status = response.status
        forwarded.response_headers = end_to_end(response.headers, host=True)
        chunks = response.chunks()
        body = bytearray()
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in chunks:
                    body += chunk
                    if len(body) > self._max_body:
                        # Too large to judge: relayed as it comes, judged as unjudged.
                        forwarded.response_body = None
                        await self._relay_rest(send, forwarded, response, bytes(body), chunks,
                                               deadline)
                        return
        except UPSTREAM_ERRORS as exc:
            forwarded.fault = exc  # the answer broke off: judged as a fault, answered with a 502
            response.close()
            await self._answer_fault(send, forwarded, started)
            return
        response.close()
        forwarded.response_body = bytes(body)
        forwarded.elapsed = time.perf_counter() - started
        verdict = await asyncio.wrap_future(self._session.verdict(forwarded))
        if verdict.breaks_answer:
            self._session.replaced()
            headers, replaced = bad_gateway(
                ENFORCED, f"ghl-contract proxy: the upstream's {response.status} answer "
                "breaks the contract.", verdict.answer, self._secrets,
                upstream_status=response.status)
            await _answer(send, 502, headers, replaced)
        else:
            await _answer(send, response.status, forwarded.response_headers,
                          forwarded.response_body)

    async def _relay_rest(self, send: Send, forwarded: Forwarded, response: Answer,
                          first: bytes, chunks: AsyncIterator[bytes], deadline: float) -> None:
        await send({"type": "http.response.start", "status": response.status,
                    "headers": forwarded.response_headers})
        try:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            async with asyncio.timeout_at(deadline):
                async for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except UPSTREAM_ERRORS as exc:
            forwarded.fault = exc
        finally:
            response.close()


async def _answer(send: Send, status: int, headers: RawHeaders, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
