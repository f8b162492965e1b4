"""Faults become findings, never exceptions: bad answers, dropped connections, timeouts, limits."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.findings import Finding, Severity
from ghl_contract.registry import pinned
from ghl_contract.transport import Client, Exchange, open_client
from ghl_contract.transport.testing import (
    TOKEN,
    Action,
    Drop,
    Hang,
    Reply,
    Reset,
    convert,
    invoice_reply,
    live_settings,
    mock_settings,
    refused_url,
    serve,
)

CASES = json.loads((Path(__file__).parent / "transport_cases" / "responses.json").read_text())
BOUND = 5.0  # seconds: far above any wait here, far below a hung run


def _reply(spec: dict[str, Any]) -> Reply:
    headers = [tuple(pair) for pair in spec.get("headers", [])]
    if spec["content_type"] is not None:
        headers.insert(0, ("Content-Type", spec["content_type"]))
    body = bytes.fromhex(spec["body_hex"]) if "body_hex" in spec else spec["body"].encode()
    return Reply(spec["status"], tuple(headers), body)


@pytest.mark.parametrize("case", CASES["cases"], ids=[case["id"] for case in CASES["cases"]])
def test_answer_is_classified(case: dict[str, Any],
                              answer_faults: Callable[[Exchange], list[Finding]]) -> None:
    reply = _reply(case["reply"])
    with serve(lambda request, index: reply) as server, \
            open_client(mock_settings(), base_url=server.url, token=None) as client:
        started = time.monotonic()
        exchange = convert(client, {"altId": "loc-1", "altType": "location"})
    expected = case["expected"]
    assert time.monotonic() - started < BOUND
    assert exchange.status == expected["status"]
    assert exchange.trace_id == expected["trace_id"]
    assert exchange.faults == ()  # an answer that arrived whole is the judge's business
    faults = answer_faults(exchange)
    if expected["rule"] is None:
        assert faults == []
    else:
        [fault] = faults
        assert (fault.rule, fault.status, fault.trace_id, fault.severity) == (
            expected["rule"], expected["status"], expected["trace_id"], Severity.BREAKING)
    assert len(server.requests) == 1


# What a misbehaving connection does, and the finding for a write and for a read: a write sent
# without any answer is never "just" a connection error.
BROKEN = [
    pytest.param(Drop(), "outcome-unknown", "connection-error", None, id="closed-after-request"),
    pytest.param(Reset(), "outcome-unknown", "connection-error", None, id="reset-after-request"),
    pytest.param(Hang(30), "outcome-unknown", "timeout", None, id="no-answer-in-time"),
    pytest.param(Reply(200, (("Content-Type", "application/json"),), b'{"invoice": {"_id"',
                       declared_length=500),
                 "connection-error", "connection-error", 200, id="closed-mid-body"),
    pytest.param(Reply(200, (("Content-Type", "application/json"),), b"{}", delay=30),
                 "outcome-unknown", "timeout", None, id="answer-too-late"),
    pytest.param(Reply(400, (("Content-Type", "application/json"),), b'{"statusCode": 4',
                       declared_length=100),
                 "connection-error", "connection-error", 400, id="error-closed-mid-body"),
]


def send(client: Client, write: bool) -> Exchange:
    """A write (the primary operation), or a read (get-invoice)."""
    if write:
        return convert(client, {"altId": "loc-1"})
    return client.request(pinned().manifest.get("get-invoice"), path={"invoiceId": "inv-1"})


@pytest.mark.parametrize(("action", "write_rule", "other_rule", "status"), BROKEN)
@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
def test_broken_connection_is_classified(action: Action, write_rule: str, other_rule: str,
                                         status: int | None, write: bool) -> None:
    with serve(lambda request, index: action) as server, open_client(
        live_settings(server.url, allow_writes=True, request_timeout=0.5), base_url=server.url,
        token=TOKEN,
    ) as client:
        started = time.monotonic()
        exchange = send(client, write)
        elapsed = time.monotonic() - started
        stats = client.stats
    [fault] = exchange.faults
    assert exchange.write is write
    assert (fault.rule, fault.status, exchange.status) == (
        write_rule if write else other_rule, status, status)
    assert elapsed < BOUND
    # Never retried: the request may have reached the application.
    assert len(server.requests) == 1
    assert stats["requests"] == 1


def test_unknown_outcome_of_a_write_says_something_may_exist() -> None:
    with serve(lambda request, index: Hang(30)) as server, open_client(
        live_settings(server.url, allow_writes=True, request_timeout=0.5), base_url=server.url,
        token=TOKEN,
    ) as client:
        exchange = convert(client, {"altId": "loc-1"})
        writes = client.stats["writes"]
        remaining = client.budget.remaining()
    [fault] = exchange.faults
    assert fault.rule == "outcome-unknown"
    assert fault.severity is Severity.BREAKING
    assert "may have created or changed something" in fault.message
    assert len(server.requests) == 1
    # It may have created an invoice, so it keeps its place in the budget.
    assert (writes, remaining) == (1, 4)


@pytest.mark.parametrize(("write", "rule"),
                         [(True, "outcome-unknown"), (False, "connection-error")],
                         ids=["write", "read"])
def test_accepted_then_closed_connection_is_not_retried(write: bool, rule: str) -> None:
    with serve(lambda request, index: invoice_reply(index), accept_and_close=True) as server, \
            open_client(mock_settings(), base_url=server.url, token=None) as client:
        started = time.monotonic()
        exchange = send(client, write)
        connections = server.connections
    [fault] = exchange.faults
    assert (fault.rule, fault.status, exchange.status) == (rule, None, None)
    assert time.monotonic() - started < BOUND
    assert connections == 1  # not retried: the request may have been sent


@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
def test_refused_connection_is_retried_once_then_a_connection_error(write: bool) -> None:
    with refused_url() as url, open_client(
        live_settings(url, allow_writes=True), base_url=url, token=TOKEN,
    ) as client:
        started = time.monotonic()
        exchange = send(client, write)
        elapsed = time.monotonic() - started
        stats, remaining = client.stats, client.budget.remaining()
    [fault] = exchange.faults
    assert (fault.rule, fault.status, exchange.attempts) == ("connection-error", None, 2)
    assert (stats["requests"], stats["retries"]) == (2, 1)
    assert elapsed < BOUND
    # Nothing was sent, so nothing was created: the write's slot is given back.
    assert (stats["writes"], remaining) == (0, 5)




@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
def test_a_body_over_the_limit_is_cut_off(write: bool) -> None:
    limit = 256 * 1024
    endless = b"[" + b"0," * limit  # more than the client reads
    huge = Reply(200, (("Content-Type", "application/json"),), endless)
    with serve(lambda request, index: huge) as server, open_client(
        live_settings(server.url, allow_writes=True, max_body=limit), base_url=server.url,
        token=TOKEN,
    ) as client:
        exchange = send(client, write)
    [fault] = exchange.faults
    assert (fault.rule, fault.status) == ("body-too-large", 200)
    assert "256 KiB" in fault.message
    assert len(exchange.response_body) <= limit
