"""The client against the project's own mock: its store counts the invoices really created."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ghl_contract.findings import Finding
from ghl_contract.mock.app import MockApp
from ghl_contract.mock.profiles import FAULT_PROFILES
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import serve
from ghl_contract.transport import Client, Exchange, WriteSkipped
from ghl_contract.transport.testing import live_settings

SEED = load_seed()
LOCATION = SEED.locations[0]
TOKEN = LOCATION.token
ESTIMATE_ID = next(iter(LOCATION.estimates))


def _live(url: str, **overrides: Any) -> Client:
    settings = live_settings(url, token=TOKEN, location_id=LOCATION.location_id,
                             estimate_id=ESTIMATE_ID, **overrides)
    return Client(settings, base_url=url, token=TOKEN)


def test_allow_writes_with_max_writes_3_creates_exactly_3(
        documented_request: dict[str, Any]) -> None:
    with serve(MockApp(SEED)) as mock, _live(mock.url, allow_writes=True, max_writes=3) as client:
        skipped = 0
        for _ in range(5):
            try:
                exchange = client.send(ESTIMATE_ID, documented_request)
            except WriteSkipped:
                skipped += 1
            else:
                assert (exchange.status, exchange.faults) == (200, ())
        created = client.created_invoices
        stored = mock.app.store.invoices()
    assert skipped == 2
    assert len(stored) == 3
    assert [c.id for c in created] == [invoice["_id"] for invoice in stored]
    assert [c.number for c in created] == [invoice["invoiceNumber"] for invoice in stored]


def test_without_allow_writes_nothing_is_created(documented_request: dict[str, Any]) -> None:
    with serve(MockApp(SEED)) as mock, _live(mock.url) as client:
        with pytest.raises(WriteSkipped):
            client.send(ESTIMATE_ID, documented_request)
        no_token = client.send(ESTIMATE_ID, documented_request, headers={"Authorization": None})
        wrong = client.send(ESTIMATE_ID, documented_request,
                            headers={"Authorization": "Bearer wrong"})
        stored = mock.app.store.invoices()
    assert (no_token.status, wrong.status) == (401, 401)
    assert stored == []


def test_the_mocks_429s_are_waited_out_without_duplicates(
        documented_request: dict[str, Any]) -> None:
    app = MockApp(SEED, rate_limit=(2, 1.0))
    with serve(app) as mock, _live(mock.url, allow_writes=True, max_writes=4) as client:
        started = time.monotonic()
        exchanges = [client.send(ESTIMATE_ID, documented_request) for _ in range(4)]
        elapsed = time.monotonic() - started
        stats = client.stats
        stored = mock.app.store.invoices()
    assert [(e.status, e.faults) for e in exchanges] == [(200, ())] * 4
    assert len(stored) == 4
    assert len({invoice["_id"] for invoice in stored}) == 4
    assert stats["retries"] + stats["rate_limit_waits"] >= 1  # it had to wait at least once
    assert elapsed < 10.0


# What a run finds for a write under each of the mock's fault profiles (the transport's fault, or
# the judge's verdict on the answer): the profile's rule, except that a write left without any
# answer is `outcome-unknown`.
FOR_A_WRITE = {name: "outcome-unknown" if name == "slow" else profile.rule
               for name, profile in FAULT_PROFILES.items()}


@pytest.mark.parametrize("name", sorted(FOR_A_WRITE))
def test_fault_profile_becomes_its_finding(
        name: str, documented_request: dict[str, Any],
        answer_faults: Callable[[Exchange], list[Finding]]) -> None:
    app = MockApp(SEED, fault=name, fault_delay=1.0)
    with serve(app) as mock, _live(mock.url, allow_writes=True, request_timeout=0.3) as client:
        started = time.monotonic()
        exchange = client.send(ESTIMATE_ID, documented_request)
        elapsed = time.monotonic() - started
    assert [fault.rule for fault in answer_faults(exchange)] == [FOR_A_WRITE[name]]
    assert exchange.attempts == 1
    assert elapsed < 5.0
