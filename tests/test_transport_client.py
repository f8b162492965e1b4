"""The client's request: operation, path, query, headers, bodies, keep-alive, the run's deadline,
hooks and the curl command that repeats an exchange."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from ghl_contract.registry import pinned
from ghl_contract.suite.ledger import Ledger
from ghl_contract.transport import NO_BODY, Exchange, RunDeadlineExceeded, open_client
from ghl_contract.transport.testing import (
    ESTIMATE_ID,
    TOKEN,
    convert,
    invoice_reply,
    json_reply,
    live_settings,
    mock_settings,
    serve,
)

BODY = {"altId": "loc-1", "altType": "location"}
MANIFEST = pinned().manifest


def test_default_headers_and_overrides() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        mock_settings(), base_url=server.url, token=TOKEN, api_version="v3",
    ) as client:
        default = convert(client, BODY)
        changed = convert(client, BODY, headers={
            "authorization": None, "Version": "2021-07-28", "Accept": None, "X-Extra": "1"})
    first, second = server.requests
    assert (first.headers["authorization"], first.headers["version"]) == (f"Bearer {TOKEN}", "v3")
    assert (first.headers["content-type"], first.headers["accept"]) == (
        "application/json", "application/json")
    assert first.headers["accept-encoding"] == "gzip, deflate"  # all the client undoes
    assert "authorization" not in second.headers
    assert "accept" not in second.headers  # removed, not replaced by the library's */*
    assert (second.headers["version"], second.headers["x-extra"]) == ("2021-07-28", "1")
    # What the exchange says was sent is what was sent, minus the token.
    assert default.request_headers["Authorization"] == "Bearer <redacted>"
    assert {k: v for k, v in default.request_headers.items() if k != "authorization"} == {
        k: v for k, v in first.headers.items() if k != "authorization"}
    assert (default.authorized, changed.authorized) == (True, False)


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        pytest.param(b"<xml/>", b"<xml/>", id="bytes-as-they-are"),
        pytest.param(b"", b"", id="empty-bytes"),
        pytest.param(NO_BODY, b"", id="no-body"),
        pytest.param(None, b"null", id="none-is-json-null"),
        pytest.param({"a": [1, "é"]}, orjson.dumps({"a": [1, "é"]}), id="json"),
        pytest.param([], b"[]", id="json-array"),
        pytest.param({"n": 2**70}, b'{"n":1180591620717411303424}', id="big-integer"),
        pytest.param({"s": "\ud800"}, b'{"s":"\\ud800"}', id="lone-surrogate"),
    ],
)
def test_body_is_sent_as_given(body: Any, sent: bytes) -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        mock_settings(), base_url=server.url, token=None,
    ) as client:
        exchange = convert(client, body)
    [received] = server.requests
    assert received.body == sent
    assert exchange.request_body == sent
    assert ("content-type" in received.headers) is (body is not NO_BODY)


def test_path_values_stay_one_segment_and_the_query_is_sent() -> None:
    listing = MANIFEST.get("list-estimates")
    with serve(lambda request, index: json_reply(200, {"estimates": [], "total": 0})) as server, \
            open_client(mock_settings(), base_url=server.url + "/", token=None) as client:
        converted = convert(client, BODY, estimate_id="../a b/?x")
        listed = client.request(listing, query={"altId": "loc 1", "altType": "location"})
    first, second = server.requests
    assert first.path == "/invoices/estimate/..%2Fa%20b%2F%3Fx/invoice"
    assert converted.url == f"{server.url}/invoices/estimate/..%2Fa%20b%2F%3Fx/invoice"
    assert (converted.operation, converted.path) == (MANIFEST.primary.id,
                                                     {"estimateId": "../a b/?x"})
    assert (second.method, second.path) == ("GET", "/invoices/estimate/list?altId=loc+1&"
                                                   "altType=location")
    assert "content-length" not in second.headers
    assert second.body == b""
    assert (listed.operation, listed.query, listed.write) == (
        "list-estimates", {"altId": "loc 1", "altType": "location"}, False)


def test_answer_fields_and_what_the_hook_sees() -> None:
    reply = json_reply(200, {"estimate": {"_id": ESTIMATE_ID},
                             "invoice": {"_id": "inv-9", "invoiceNumber": 1007,
                                         "altId": "loc-9"}},
                       (("X-RateLimit-Remaining", "99"),))
    seen: list[Exchange] = []
    with serve(lambda request, index: reply) as server, open_client(
        mock_settings(), base_url=server.url, token=TOKEN, on_exchange=[seen.append],
    ) as client:
        exchange = convert(client, BODY, note={"expect": [200], "test": "t::one"})
        stats = client.stats
    assert seen == [exchange]
    assert (exchange.status, exchange.faults, exchange.write) == (200, (), True)
    assert exchange.json()["invoice"]["_id"] == "inv-9"
    assert exchange.response_headers["X-RateLimit-Remaining"] == "99"
    assert exchange.response_headers["x-ratelimit-remaining"] == "99"
    assert exchange.note == {"expect": [200], "test": "t::one"}
    assert stats == {"requests": 1, "writes": 1, "retries": 0, "rate_limit_waits": 0,
                     "skipped_writes": 0}


def test_every_2xx_of_an_operation_that_creates_is_recorded() -> None:
    """Whatever the request expected and whatever its token: a 2xx created something."""
    def reply(request: Any, index: int) -> Any:
        if request.path.endswith("/invoice"):
            return json_reply(200, {"estimate": {"_id": ESTIMATE_ID},
                                    "invoice": {"_id": f"inv-{index}", "invoiceNumber": index}})
        return json_reply(200, {"_id": "est-new", "estimateNumber": 7, "altId": "loc-2"})

    created = Ledger("t", "v", location="loc-1")
    with serve(reply) as server, open_client(
        mock_settings(), base_url=server.url, token=TOKEN,
        on_exchange=[created.hook(pinned().manifest)],
    ) as client:
        convert(client, BODY, headers={"Authorization": None}, note={"expect": [401]})
        convert(client, {"altId": "loc-3"})
        client.request(MANIFEST.get("create-new-estimate"), body={"altId": "loc-2"})
        client.request(MANIFEST.get("list-estimates"), query={"altId": "loc-1"})
    assert [(c.operation, c.kind, c.id, c.number, c.location) for c in created.entries] == [
        (MANIFEST.primary.id, "invoice", "inv-0", "0", "loc-1"),
        (MANIFEST.primary.id, "invoice", "inv-1", "1", "loc-3"),
        ("create-new-estimate", "estimate", "est-new", "7", "loc-2"),
    ]


def test_requests_share_one_connection() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        mock_settings(), base_url=server.url, token=None,
    ) as client:
        for _ in range(3):
            convert(client, BODY)
        connections = server.connections
    assert connections == 1


def test_curl_repeats_the_request_without_the_token(tmp_path: Path) -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        mock_settings(), base_url=server.url, token=TOKEN,
    ) as client:
        exchange = convert(client, {"altId": "it's \"quoted\"", "n": 1},
                           headers={"Accept": None, "X-Note": "a b"})
        command = exchange.curl()
        assert TOKEN not in command
        assert '"Authorization: Bearer $GHL_TOKEN"' in command
        # The command, run by a shell with the token in its environment, sends the same request.
        fake_curl = tmp_path / "curl"
        fake_curl.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
        fake_curl.chmod(0o755)
        shell = shutil.which("sh") or "/bin/sh"
        done = subprocess.run([shell, "-c", command], capture_output=True, text=True, check=True,
                              env={"PATH": str(tmp_path), "GHL_TOKEN": TOKEN})
    words = done.stdout.splitlines()
    assert words[:4] == ["-sS", "-X", "POST", exchange.url]
    assert f"Authorization: Bearer {TOKEN}" in words
    headers = [w for w in words if w.lower().startswith(("x-note", "accept"))]
    assert headers == ["x-note: a b", "Accept:"]
    assert orjson.loads(words[words.index("--data-binary") + 1]) == {
        "altId": "it's \"quoted\"", "n": 1}
    assert shlex.split(command)[0] == "curl"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_past_the_run_deadline_nothing_is_sent() -> None:
    clock = FakeClock()
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        live_settings(server.url, allow_writes=True, run_timeout=30.0), base_url=server.url,
        token=TOKEN, clock=clock,
    ) as client:
        clock.now = 30.0
        with pytest.raises(RunDeadlineExceeded, match="--run-timeout"):
            convert(client, BODY)
        left = client.budget.remaining()
    assert server.requests == []
    assert left == 5


def test_a_rate_limit_wait_past_the_deadline_stops_the_run_at_once() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        live_settings(server.url, allow_writes=True, rate_limit=(1, 30.0), run_timeout=5.0),
        base_url=server.url, token=TOKEN,
    ) as client:
        convert(client, BODY)
        started = time.monotonic()
        with pytest.raises(RunDeadlineExceeded):
            convert(client, BODY)
        waited = time.monotonic() - started
        left = client.budget.remaining()
    assert len(server.requests) == 1
    assert waited < 1.0  # it did not sleep towards a deadline it could not meet
    assert left == 4  # the write that was not sent took no slot


def test_request_timeout_is_cut_to_the_run_deadline() -> None:
    with serve(lambda request, index: json_reply(200, {}, delay=5)) as server, open_client(
        live_settings(server.url, request_timeout=10.0, run_timeout=0.5), base_url=server.url,
        token=TOKEN,
    ) as client:
        started = time.monotonic()
        exchange = client.request(MANIFEST.get("list-estimates"))
        elapsed = time.monotonic() - started
        with pytest.raises(RunDeadlineExceeded):
            client.request(MANIFEST.get("list-estimates"))
    [fault] = exchange.faults
    assert fault.rule == "timeout"
    assert elapsed < 2.0


def test_a_closed_client_refuses_to_send() -> None:
    with open_client(mock_settings(), base_url="http://127.0.0.1:9", token=None) as client:
        pass
    client.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        convert(client, BODY)
