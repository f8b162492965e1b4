"""The client's request: headers, bodies, keep-alive, created invoices and the run's deadline."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from ghl_contract.transport import Client, RunDeadlineExceeded
from ghl_contract.transport.testing import (
    ESTIMATE_ID,
    TOKEN,
    invoice_reply,
    json_reply,
    live_settings,
    mock_settings,
    serve,
)

BODY = {"altId": "loc-1", "altType": "location"}


def test_default_headers_and_overrides() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        mock_settings(), base_url=server.url, token=TOKEN, api_version="v3",
    ) as client:
        default = client.send(ESTIMATE_ID, BODY)
        changed = client.send(ESTIMATE_ID, BODY, headers={
            "authorization": None, "Version": "2021-07-28", "Accept": None, "X-Extra": "1"})
    first, second = server.requests
    assert (first.headers["authorization"], first.headers["version"]) == (f"Bearer {TOKEN}", "v3")
    assert (first.headers["content-type"], first.headers["accept"]) == (
        "application/json", "application/json")
    assert "authorization" not in second.headers
    assert "accept" not in second.headers  # removed, not replaced by the library's */*
    assert (second.headers["version"], second.headers["x-extra"]) == ("2021-07-28", "1")
    # What the exchange says was sent is what was sent, minus the token.
    assert default.request_headers["Authorization"] == "Bearer <redacted>"
    assert {k: v for k, v in default.request_headers.items() if k != "authorization"} == {
        k: v for k, v in first.headers.items() if k != "authorization"}
    assert changed.write is False


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        pytest.param(b"<xml/>", b"<xml/>", id="bytes-as-they-are"),
        pytest.param(b"", b"", id="empty-bytes"),
        pytest.param(None, b"", id="none-is-no-body"),
        pytest.param({"a": [1, "é"]}, orjson.dumps({"a": [1, "é"]}), id="json"),
        pytest.param([], b"[]", id="json-array"),
        pytest.param({"n": 2**70}, b'{"n":1180591620717411303424}', id="big-integer"),
        pytest.param({"s": "\ud800"}, b'{"s":"\\ud800"}', id="lone-surrogate"),
    ],
)
def test_body_is_sent_as_given(body: Any, sent: bytes) -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        mock_settings(), base_url=server.url, token=None,
    ) as client:
        exchange = client.send(ESTIMATE_ID, body)
    [received] = server.requests
    assert received.body == sent
    assert exchange.request_body == sent


def test_estimate_id_stays_one_path_segment() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        mock_settings(), base_url=server.url + "/", token=None,
    ) as client:
        exchange = client.send("../a b/?x", BODY)
    assert server.requests[0].path == "/invoices/estimate/..%2Fa%20b%2F%3Fx/invoice"
    assert exchange.url == f"{server.url}/invoices/estimate/..%2Fa%20b%2F%3Fx/invoice"


def test_answer_fields_and_created_invoices() -> None:
    reply = json_reply(200, {"estimate": {"_id": ESTIMATE_ID},
                             "invoice": {"_id": "inv-9", "invoiceNumber": 1007,
                                         "altId": "loc-9"}},
                       (("X-RateLimit-Remaining", "99"),))
    with serve(lambda request, index: reply) as server, Client(
        mock_settings(location_id="loc-1"), base_url=server.url, token=TOKEN,
    ) as client:
        exchange = client.send(ESTIMATE_ID, BODY)
        not_a_write = client.send(ESTIMATE_ID, BODY, headers={"Authorization": "Bearer wrong"})
        created, stats = client.created_invoices, client.stats
    assert (exchange.status, exchange.faults, exchange.write) == (200, (), True)
    assert exchange.json()["invoice"]["_id"] == "inv-9"
    assert exchange.response_headers["X-RateLimit-Remaining"] == "99"
    assert exchange.response_headers["x-ratelimit-remaining"] == "99"
    assert exchange.created_invoice == created[0]
    assert [(c.id, c.number, c.estimate_id, c.location_id) for c in created] == [
        ("inv-9", 1007, ESTIMATE_ID, "loc-9")]
    assert not_a_write.created_invoice is None
    assert stats == {"requests": 2, "writes": 1, "retries": 0, "rate_limit_waits": 0,
                     "skipped_writes": 0}


def test_requests_share_one_connection() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        mock_settings(), base_url=server.url, token=None,
    ) as client:
        for _ in range(3):
            client.send(ESTIMATE_ID, BODY)
        connections = server.connections
    assert connections == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_past_the_run_deadline_nothing_is_sent() -> None:
    clock = FakeClock()
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        live_settings(server.url, allow_writes=True, run_timeout=30.0), base_url=server.url,
        token=TOKEN, clock=clock,
    ) as client:
        clock.now = 30.0
        with pytest.raises(RunDeadlineExceeded, match="--run-timeout"):
            client.send(ESTIMATE_ID, BODY)
        left = client.expected_writes()
    assert server.requests == []
    assert left == 5


def test_a_rate_limit_wait_past_the_deadline_stops_the_run_at_once() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        live_settings(server.url, allow_writes=True, rate_limit=(1, 30.0), run_timeout=5.0),
        base_url=server.url, token=TOKEN,
    ) as client:
        client.send(ESTIMATE_ID, BODY)
        started = time.monotonic()
        with pytest.raises(RunDeadlineExceeded):
            client.send(ESTIMATE_ID, BODY)
        waited = time.monotonic() - started
        left = client.expected_writes()
    assert len(server.requests) == 1
    assert waited < 1.0  # it did not sleep towards a deadline it could not meet
    assert left == 4  # the write that was not sent gave its slot back


def test_request_timeout_is_cut_to_the_run_deadline() -> None:
    with serve(lambda request, index: json_reply(200, {}, delay=5)) as server, Client(
        live_settings(server.url, request_timeout=10.0, run_timeout=0.5), base_url=server.url,
        token=TOKEN,
    ) as client:
        started = time.monotonic()
        exchange = client.send(ESTIMATE_ID, BODY, headers={"Authorization": None})
        elapsed = time.monotonic() - started
        with pytest.raises(RunDeadlineExceeded):
            client.send(ESTIMATE_ID, BODY, headers={"Authorization": None})
    [fault] = exchange.faults
    assert fault.rule == "timeout"
    assert elapsed < 2.0


def test_a_closed_client_refuses_to_send() -> None:
    client = Client(mock_settings(), base_url="http://127.0.0.1:9", token=None)
    client.close()
    client.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        client.send(ESTIMATE_ID, BODY)
