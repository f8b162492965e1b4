"""The write budget: a live run sends no write unless allowed, and at most --max-writes."""

from __future__ import annotations

import pytest

from ghl_contract.transport import UNLIMITED, Client, WriteSkipped
from ghl_contract.transport.testing import (
    ESTIMATE_ID,
    TOKEN,
    invoice_reply,
    live_settings,
    mock_settings,
    serve,
)

BODY = {"altId": "loc-1", "altType": "location"}


def test_live_run_without_allow_writes_sends_no_write() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        live_settings(server.url), base_url=server.url, token=TOKEN,
    ) as client:
        assert client.expected_writes() == 0
        with pytest.raises(WriteSkipped) as skipped:
            client.send(ESTIMATE_ID, BODY)
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
        pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
    ],
)
def test_requests_without_the_valid_token_are_not_writes(headers: dict[str, str | None]) -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        live_settings(server.url), base_url=server.url, token=TOKEN,
    ) as client:
        exchange = client.send(ESTIMATE_ID, BODY, headers=headers)
        stats, created = client.stats, client.created_invoices
    assert exchange.write is False
    assert len(server.requests) == 1
    assert (stats["writes"], stats["skipped_writes"]) == (0, 0)
    assert created == []  # only writes' answers name invoices the run created


def test_the_token_in_another_form_is_still_a_write() -> None:
    """Any header carrying the valid token could create an invoice: it is a write."""
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        live_settings(server.url), base_url=server.url, token=TOKEN,
    ) as client, pytest.raises(WriteSkipped):
        client.send(ESTIMATE_ID, BODY, headers={"Authorization": f"bearer {TOKEN}"})
    assert server.requests == []


def test_max_writes_caps_the_writes_that_reach_the_server() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        live_settings(server.url, allow_writes=True, max_writes=3), base_url=server.url,
        token=TOKEN,
    ) as client:
        plans = []
        for _ in range(3):
            plans.append(client.expected_writes())
            client.send(ESTIMATE_ID, BODY)
        with pytest.raises(WriteSkipped, match="write budget of 3 reached"):
            client.send(ESTIMATE_ID, BODY)
        # What cannot write still goes.
        client.send(ESTIMATE_ID, BODY, headers={"Authorization": "Bearer wrong"})
        created, stats, left = client.created_invoices, client.stats, client.expected_writes()
    assert plans == [3, 2, 1]
    assert left == 0
    writes = [r for r in server.requests if r.headers.get("authorization") == f"Bearer {TOKEN}"]
    assert len(writes) == 3
    assert len(server.requests) == 4
    assert [(c.id, c.number, c.estimate_id, c.location_id) for c in created] == [
        ("inv-0", "0", ESTIMATE_ID, "loc-1"),
        ("inv-1", "1", ESTIMATE_ID, "loc-1"),
        ("inv-2", "2", ESTIMATE_ID, "loc-1"),
    ]
    assert (stats["writes"], stats["skipped_writes"], stats["requests"]) == (3, 1, 4)


def test_embedded_mock_has_no_write_budget() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        mock_settings(max_writes=1), base_url=server.url, token=TOKEN,
    ) as client:
        exchanges = [client.send(ESTIMATE_ID, BODY) for _ in range(4)]
        left = client.expected_writes()
    assert [e.write for e in exchanges] == [True] * 4
    assert len(server.requests) == 4
    assert left == UNLIMITED


def test_max_writes_zero_allows_none() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, Client(
        live_settings(server.url, allow_writes=True, max_writes=0), base_url=server.url,
        token=TOKEN,
    ) as client, pytest.raises(WriteSkipped, match="write budget of 0 reached"):
        client.send(ESTIMATE_ID, BODY)
    assert server.requests == []
