"""The proxy forwards requests and answers unchanged: status, end-to-end headers, body bytes;
hop-by-hop headers stay on their hop; keep-alive on both sides; answers stream as they come."""

from __future__ import annotations

import asyncio
import base64
import gzip
import socket
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from ghl_contract.mock import MockApp
from ghl_contract.proxy.testing import (
    CONVERSION,
    TOKEN,
    Recorded,
    conversion_headers,
    documented_request,
    proxied,
    report_after,
    served,
)
from ghl_contract.proxy.wire import HOP_BY_HOP
from ghl_contract.resources import example_path
from ghl_contract.transport.testing import Raw, Received, Reply, json_reply
from ghl_contract.transport.testing import serve as serve_raw


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


BODY = documented_request()
CALLS = [
    Call("conversion-200", "POST", CONVERSION, conversion_headers(), BODY),
    Call("no-token-401", "POST", CONVERSION, {"Version": "2021-07-28",
                                              "Content-Type": "application/json"}, BODY),
    Call("wrong-token-401", "POST", CONVERSION, conversion_headers("not-a-token"), BODY),
    Call("bad-version-400", "POST", CONVERSION,
         {**conversion_headers(), "Version": "1999-01-01"}, BODY),
    Call("invalid-body-422", "POST", CONVERSION, conversion_headers(), b'{"altType": 1}'),
    Call("not-json-400", "POST", CONVERSION, conversion_headers(), b"<xml/>"),
    Call("unknown-estimate-404", "POST", CONVERSION.replace("5f9d6d8b", "00000000"),
         conversion_headers(), BODY),
    Call("unknown-route-404", "GET", "/nothing/here?x=1&y=%20z", {}),
    Call("mock-store-200", "GET", "/__mock__/invoices", {}),
]


def _end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower(), value) for name, value in headers if name.lower() not in HOP_BY_HOP]


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.name)
def test_the_client_gets_the_upstreams_answer_byte_for_byte(call: Call) -> None:
    upstream = Recorded(MockApp())
    with served(upstream) as url, proxied(url) as proxy, httpx.Client() as client:
        got = client.request(call.method, proxy.url + call.path, headers=call.headers,
                             content=call.body)
    sent = upstream.answers[-1]
    assert got.status_code == sent.status
    assert got.content == sent.body
    # The upstream's server wrote its Date and Server before the app's headers; the proxy's
    # server adds none of its own.
    relayed = _end_to_end(list(got.headers.raw))
    assert [name for name, _ in relayed[:2]] == [b"date", b"server"]
    assert relayed[2:] == _end_to_end(sent.headers)


@pytest.mark.parametrize("call", [c for c in CALLS if c.name != "conversion-200"],
                         ids=lambda call: call.name)
def test_a_deterministic_answer_through_the_proxy_equals_the_direct_one(call: Call) -> None:
    with served(MockApp()) as url, proxied(url) as proxy, httpx.Client() as client:
        direct = client.request(call.method, url + call.path, headers=call.headers,
                                content=call.body)
        through = client.request(call.method, proxy.url + call.path, headers=call.headers,
                                 content=call.body)
    assert (through.status_code, through.content) == (direct.status_code, direct.content)
    assert through.headers.get("content-type") == direct.headers.get("content-type")


def test_the_upstream_gets_the_clients_request_as_sent() -> None:
    target = "/inv%2Foices/e%201?a=1&b=%C3%A9&a=2"
    with serve_raw(lambda received, index: json_reply(200, {})) as upstream, \
            proxied(upstream.url + "/base") as proxy, httpx.Client() as client:
        client.post(proxy.url + target, content=BODY,
                    headers={**conversion_headers(), "X-Custom": "kept", "Cookie": "c=1"})
    received = upstream.requests[-1]
    assert (received.method, received.path, received.body) == ("POST", "/base" + target, BODY)
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert received.headers["x-custom"] == "kept"
    assert received.headers["cookie"] == "c=1"
    assert received.headers["host"] == upstream.url.removeprefix("http://")


def test_a_header_value_in_utf8_reaches_the_upstream_byte_for_byte() -> None:
    value = "Zoë Müller".encode()
    with serve_raw(lambda received, index: json_reply(200, {})) as upstream, \
            proxied(upstream.url) as proxy, httpx.Client() as client:
        client.get(proxy.url + "/x", headers={"X-Name": value})
    assert upstream.requests[-1].headers["x-name"].encode("latin-1") == value


@pytest.mark.parametrize(("method", "length"), [
    ("GET", None), ("HEAD", None), ("DELETE", None), ("OPTIONS", None), ("POST", "0"),
], ids=["get", "head", "delete", "options", "post-with-content-length-0"])
def test_a_request_without_a_body_reaches_the_upstream_with_the_length_it_came_with(
        method: str, length: str | None) -> None:
    with serve_raw(lambda received, index: Reply(204)) as upstream, \
            proxied(upstream.url) as proxy, httpx.Client() as client:
        sent = client.request(method, proxy.url + "/x")
    received = upstream.requests[-1]
    assert sent.request.headers.get("content-length") == length  # what the client sent
    assert (received.method, received.body) == (method, b"")
    assert received.headers.get("content-length") == length
    assert "transfer-encoding" not in received.headers


@pytest.mark.parametrize("interim", [False, True], ids=["answer", "100-continue-then-answer"])
def test_a_request_expecting_100_continue_reaches_the_upstream_with_its_body(
        interim: bool) -> None:
    # The proxy's server told the client to go on; the body goes on with the head, and an
    # upstream's own 100 Continue is passed over.
    final = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

    def answer(received: Received, index: int) -> Raw:
        return Raw([b"HTTP/1.1 100 Continue\r\n\r\n" * interim + final])

    with serve_raw(answer) as upstream, proxied(upstream.url, timeout=5) as proxy, \
            httpx.Client(timeout=20) as client:
        got = client.post(proxy.url + "/upload", content=BODY,
                          headers={"Expect": "100-continue"})
    assert (got.status_code, got.content) == (200, b"{}")
    received = upstream.requests[-1]
    assert (received.headers["expect"], received.body) == ("100-continue", BODY)


def test_a_remote_upstream_is_reached_through_the_environments_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with serve_raw(lambda received, index: json_reply(200, {})) as forward_proxy:
        monkeypatch.setenv("HTTP_PROXY", forward_proxy.url.replace("://", "://user:pw@"))
        with proxied("http://upstream.example/base") as proxy, \
                httpx.Client(trust_env=False) as client:
            got = client.get(proxy.url + "/x?y=1", headers={"Authorization": "Bearer mine"})
    assert got.status_code == 200
    received = forward_proxy.requests[-1]
    assert received.path == "http://upstream.example/base/x?y=1"
    assert received.headers["proxy-authorization"] == \
        "Basic " + base64.b64encode(b"user:pw").decode()
    assert received.headers["authorization"] == "Bearer mine"


def test_hop_by_hop_headers_stay_on_their_hop() -> None:
    answer = Reply(200, (("Content-Type", "application/json"), ("Keep-Alive", "timeout=5"),
                         ("X-Hop", "1"), ("Connection", "X-Hop"), ("X-End", "kept"),
                         ("Proxy-Authenticate", "Basic")), b"{}")
    with serve_raw(lambda received, index: answer) as upstream, proxied(upstream.url) as proxy, \
            httpx.Client() as client:
        got = client.get(proxy.url + "/x", headers={
            "Connection": "keep-alive, X-Private", "X-Private": "secret-hop", "TE": "trailers",
            "Keep-Alive": "timeout=9", "Proxy-Authorization": "Basic cHJveHk6cHc=",
            "Authorization": "Bearer end-to-end", "X-End": "kept"})
    received = upstream.requests[-1].headers
    assert received["authorization"] == "Bearer end-to-end"
    assert received["x-end"] == "kept"
    for name in ("x-private", "te", "keep-alive", "proxy-authorization"):
        assert name not in received, name
    assert received.get("connection", "keep-alive") == "keep-alive"  # httpcore's own
    assert got.headers["x-end"] == "kept"
    for name in ("keep-alive", "x-hop", "proxy-authenticate"):
        assert name not in got.headers, name


def test_keep_alive_reuses_one_connection_on_each_side() -> None:
    with serve_raw(lambda received, index: json_reply(200, {"n": index})) as upstream, \
            proxied(upstream.url) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            stream = sock.makefile("rb")
            for index in range(3):
                sock.sendall(b"GET /n HTTP/1.1\r\nHost: proxy\r\n\r\n")
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    head += stream.readline()
                assert head.startswith(b"HTTP/1.1 200 ")
                length = int(next(line for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")).split(b":")[1])
                assert orjson.loads(stream.read(length)) == {"n": index}
    assert upstream.connections == 1
    assert len(upstream.requests) == 3


def test_an_answer_streams_to_the_client_as_the_upstream_sends_it() -> None:
    release = threading.Event()
    waited: list[bool] = []

    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first,", "more_body": True})
        # Released only once the client has read the first part: a proxy that waited for the
        # whole answer would keep it from the client, and this wait would time out.
        waited.append(await asyncio.to_thread(release.wait, 10))
        await send({"type": "http.response.body", "body": b"second", "more_body": False})

    with served(streaming) as url, proxied(url) as proxy, httpx.Client(timeout=20) as client, \
            client.stream("GET", proxy.url + "/stream") as response:
        chunks = response.iter_raw()
        first = next(chunks)
        release.set()
        rest = b"".join(chunks)
    assert (first, rest) == (b"first,", b"second")
    assert waited == [True]


def test_a_gzip_answer_is_relayed_compressed_and_judged_decompressed() -> None:
    payload = orjson.loads(example_path("response-200").read_bytes())
    payload["invoice"]["amountDue"] = "a string"
    compressed = gzip.compress(orjson.dumps(payload))
    answer = Reply(200, (("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
                   compressed)
    with serve_raw(lambda received, index: answer) as upstream, \
            proxied(upstream.url) as proxy, httpx.Client() as client, \
            client.stream("POST", proxy.url + CONVERSION, content=BODY,
                          headers=conversion_headers()) as response:
        raw = b"".join(response.iter_raw())
    assert raw == compressed
    assert {(f["rule"], f["pointer"]) for f in report_after(proxy).to_dict()["findings"]} >= {
        ("type-changed", "/invoice/amountDue")}
