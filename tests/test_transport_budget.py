"""The write budget: a live run sends no write unless allowed, and at most --max-writes, counted as
sent: every request to an operation that writes, whatever its token, each attempt of it."""

from __future__ import annotations

import pytest

from ghl_contract.registry import pinned
from ghl_contract.suite.ledger import Ledger
from ghl_contract.transport import UNLIMITED, WriteSkipped, open_client
from ghl_contract.transport.testing import (
    TOKEN,
    Action,
    Received,
    convert,
    invoice_reply,
    json_reply,
    live_settings,
    mock_settings,
    refused_url,
    serve,
)

BODY = {"altId": "loc-1", "altType": "location"}
MANIFEST = pinned().manifest


def test_live_run_without_allow_writes_sends_no_write() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        live_settings(server.url), base_url=server.url, token=TOKEN,
    ) as client:
        assert client.budget.remaining() == 0
        with pytest.raises(WriteSkipped) as skipped:
            convert(client, BODY)
        stats = client.stats
    assert server.requests == []
    assert "--allow-writes" in str(skipped.value)
    assert skipped.value.reason == str(skipped.value)
    assert (stats["requests"], stats["writes"], stats["skipped_writes"]) == (0, 0, 1)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": None}, id="no-token"),
        pytest.param({"Authorization": "Bearer wrong"}, id="invalid-token"),
        pytest.param({"Authorization": f"bearer {TOKEN}"}, id="the-token-in-another-form"),
    ],
)
def test_a_write_is_a_write_whatever_its_token(headers: dict[str, str | None]) -> None:
    """A server that ignores authentication creates objects for the no-token tests too."""
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        live_settings(server.url), base_url=server.url, token=TOKEN,
    ) as client, pytest.raises(WriteSkipped):
        convert(client, BODY, headers=headers)
    assert server.requests == []


def test_a_read_needs_no_budget() -> None:
    listing = MANIFEST.get("list-estimates")
    with serve(lambda request, index: json_reply(200, {"estimates": [], "total": 0})) as server, \
            open_client(live_settings(server.url), base_url=server.url, token=TOKEN) as client:
        exchange = client.request(listing, query={"altId": "loc-1"})
    assert (exchange.status, exchange.write) == (200, False)
    assert len(server.requests) == 1


def test_max_writes_caps_the_writes_that_reach_the_server() -> None:
    created = Ledger("t", "v", location="loc-1")
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=3), base_url=server.url,
        token=TOKEN, on_exchange=[created.hook(pinned().manifest)],
    ) as client:
        plans = []
        for headers in ({}, {"Authorization": "Bearer wrong"}, {}):
            plans.append(client.budget.remaining())
            convert(client, BODY, headers=headers)
        with pytest.raises(WriteSkipped, match="write budget of 3 reached"):
            convert(client, BODY)
        stats, left = client.stats, client.budget.remaining()
    assert plans == [3, 2, 1]
    assert left == 0
    assert len(server.requests) == 3
    assert [(c.id, c.number, c.location) for c in created.entries] == [
        (f"inv-{i}", str(i), "loc-1") for i in range(3)]
    assert (stats["writes"], stats["skipped_writes"], stats["requests"]) == (3, 1, 3)


def test_a_write_that_never_left_gives_its_slot_back() -> None:
    with refused_url() as url, open_client(
        live_settings(url, allow_writes=True, max_writes=1), base_url=url, token=TOKEN,
    ) as client:
        exchange = convert(client, BODY)
        left, stats = client.budget.remaining(), client.stats
    assert [f.rule for f in exchange.faults] == ["connection-error"]
    assert left == 1
    assert (stats["writes"], stats["retries"]) == (0, 1)  # refused twice, never sent


class CreatesThen429:
    """A lying server: every write creates an invoice, and most are answered 429 all the same."""

    def __init__(self) -> None:
        self.created = 0

    def __call__(self, request: Received, index: int) -> Action:
        self.created += 1
        if index % 3 == 2:
            return invoice_reply(index)
        return json_reply(429, {"statusCode": 429, "message": "Too many requests"},
                          (("Retry-After", "0"),))


@pytest.mark.parametrize("cap", [1, 3])
def test_429s_after_creating_never_pass_the_cap(cap: int) -> None:
    server_side = CreatesThen429()
    with serve(server_side) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=cap), base_url=server.url,
        token=TOKEN,
    ) as client:
        outcomes = []
        for _ in range(6):
            try:
                exchange = convert(client, BODY)
            except WriteSkipped:
                outcomes.append("skipped")
            else:
                outcomes.append(exchange.status)
        stats = client.stats
    assert server_side.created == len(server.requests) == cap
    assert stats["writes"] == cap
    assert outcomes.count("skipped") >= 6 - cap


def test_embedded_mock_has_no_write_budget() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        mock_settings(max_writes=1), base_url=server.url, token=TOKEN,
    ) as client:
        exchanges = [convert(client, BODY) for _ in range(4)]
        left = client.budget.remaining()
    assert [e.write for e in exchanges] == [True] * 4
    assert len(server.requests) == 4
    assert left == UNLIMITED


def test_max_writes_zero_allows_none() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=0), base_url=server.url,
        token=TOKEN,
    ) as client, pytest.raises(WriteSkipped, match="write budget of 0 reached"):
        convert(client, BODY)
    assert server.requests == []
