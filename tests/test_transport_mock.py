"""The client against the project's own mock: its store counts the invoices really created."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ghl_contract.findings import Finding
from ghl_contract.mock.app import MockApp
from ghl_contract.mock.profiles import FAULT_PROFILES
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import serve
from ghl_contract.registry import pinned
from ghl_contract.suite.ledger import Ledger
from ghl_contract.transport import Client, Exchange, ExchangeHook, WriteSkipped, open_client
from ghl_contract.transport.testing import convert, live_settings

SEED = load_seed()
LOCATION = SEED.locations[0]
TOKEN = LOCATION.token
ESTIMATE_ID = next(iter(LOCATION.estimates))


@contextlib.contextmanager
def _live(url: str, hooks: tuple[ExchangeHook, ...] = (), **overrides: Any) -> Iterator[Client]:
    settings = live_settings(url, token=TOKEN, location_id=LOCATION.location_id,
                             estimate_id=ESTIMATE_ID, **overrides)
    with open_client(settings, base_url=url, token=TOKEN, on_exchange=hooks) as client:
        yield client


def test_allow_writes_with_max_writes_3_creates_exactly_3(
        documented_request: dict[str, Any]) -> None:
    created = Ledger("t", "v")
    hooks = (created.hook(pinned().manifest),)
    with serve(MockApp(SEED)) as mock, _live(mock.url, hooks, allow_writes=True,
                                             max_writes=3) as client:
        skipped = 0
        for _ in range(5):
            try:
                exchange = convert(client, documented_request, estimate_id=ESTIMATE_ID)
            except WriteSkipped:
                skipped += 1
            else:
                assert (exchange.status, exchange.faults) == (200, ())
        stored = mock.app.store.invoices()
    assert skipped == 2
    assert len(stored) == 3
    assert [c.id for c in created.entries] == [invoice["_id"] for invoice in stored]
    assert [c.number for c in created.entries] == [str(invoice["invoiceNumber"])
                                                   for invoice in stored]


@pytest.mark.parametrize("headers", [None, {"Authorization": None},
                                     {"Authorization": "Bearer wrong"}],
                         ids=["token", "no-token", "wrong-token"])
def test_without_allow_writes_no_write_is_sent(documented_request: dict[str, Any],
                                               headers: dict[str, str | None] | None) -> None:
    with serve(MockApp(SEED)) as mock, _live(mock.url) as client:
        with pytest.raises(WriteSkipped):
            convert(client, documented_request, estimate_id=ESTIMATE_ID, headers=headers)
        stored = mock.app.store.invoices()
    assert stored == []


def test_the_mocks_429s_are_waited_out_without_duplicates(
        documented_request: dict[str, Any]) -> None:
    app = MockApp(SEED, rate_limit=(2, 1.0))
    with serve(app) as mock, _live(mock.url, allow_writes=True, max_writes=8) as client:
        started = time.monotonic()
        exchanges = [convert(client, documented_request, estimate_id=ESTIMATE_ID)
                     for _ in range(4)]
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
        exchange = convert(client, documented_request, estimate_id=ESTIMATE_ID)
        elapsed = time.monotonic() - started
    assert [fault.rule for fault in answer_faults(exchange)] == [FOR_A_WRITE[name]]
    assert exchange.attempts == 1
    assert elapsed < 5.0
