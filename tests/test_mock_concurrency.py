"""Concurrent conversions lose no invoice, share no number and leave the estimate consistent;
concurrent creations share no estimate number."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from ghl_contract.mock import Location, MockApp, load_seed, serve
from ghl_contract.mock.store import Store
from ghl_contract.mock.testing import Caller

SEED = load_seed()
HOME, OTHER = SEED.locations
DOCUMENTED = "5f9d6d8b1b2d2c001f2d9e4b"
CONVERSIONS = 50
BOUND = 30.0  # seconds: far above what 50 loopback requests take, far below a hung test


def test_fifty_concurrent_conversions() -> None:
    [other_estimate] = OTHER.estimates
    jobs = [(HOME, DOCUMENTED)] * CONVERSIONS + [(OTHER, other_estimate)] * 10
    start = threading.Barrier(len(jobs))

    def convert(job: tuple[Location, str], http: httpx.Client) -> httpx.Response:
        location, estimate_id = job
        start.wait(timeout=BOUND)  # all at once, not one after the other
        return http.post(
            f"/invoices/estimate/{estimate_id}/invoice",
            headers={"Authorization": f"Bearer {location.token}", "Version": "2021-07-28"},
            json={"altId": location.location_id, "altType": "location", "markAsInvoiced": True})

    with serve(MockApp(SEED)) as running, \
            httpx.Client(base_url=running.url, timeout=BOUND,
                         limits=httpx.Limits(max_connections=len(jobs))) as http, \
            ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        responses = list(pool.map(lambda job: convert(job, http), jobs))
        store = running.app.store
        stored = store.invoices()
        estimate = store.estimate(DOCUMENTED)

    assert [r.status_code for r in responses] == [200] * len(jobs)
    home = [r.json()["invoice"]["invoiceNumber"] for r in responses[:CONVERSIONS]]
    other = [r.json()["invoice"]["invoiceNumber"] for r in responses[CONVERSIONS:]]
    assert sorted(home, key=int) == [str(n) for n in range(1, CONVERSIONS + 1)]
    assert sorted(other, key=int) == [str(n) for n in range(1, 11)]
    assert len(stored) == len(jobs)
    assert len({invoice["_id"] for invoice in stored}) == len(jobs)
    # The store keeps them in the order they were numbered.
    assert [i["invoiceNumber"] for i in stored if i["altId"] == HOME.location_id] == [
        str(n) for n in range(1, CONVERSIONS + 1)]
    assert estimate is not None
    assert estimate["estimateStatus"] == "invoiced"
    assert estimate["estimateActionHistory"][-1] == {"action": "Invoiced",
                                                      "timestamp": estimate["updatedAt"]}
    assert [entry["action"] for entry in estimate["estimateActionHistory"]].count("Invoiced") == 1
    # Each response shows the estimate as its own conversion left it: marked, never half-done.
    for response in responses[:CONVERSIONS]:
        shown = response.json()["estimate"]
        assert shown["estimateStatus"] == "invoiced"
        assert shown["estimateActionHistory"][-1]["timestamp"] == shown["updatedAt"]


def test_fifty_concurrent_estimates_each_converted() -> None:
    start = threading.Barrier(CONVERSIONS)

    def create_and_convert(http: httpx.Client) -> tuple[httpx.Response, httpx.Response]:
        caller = Caller(http, HOME.token, HOME.location_id)
        start.wait(timeout=BOUND)  # all at once, not one after the other
        created = caller.create_estimate()
        return created, caller.convert(created.json()["_id"])

    with serve(MockApp(SEED)) as running, \
            httpx.Client(base_url=running.url, timeout=BOUND,
                         limits=httpx.Limits(max_connections=CONVERSIONS)) as http, \
            ThreadPoolExecutor(max_workers=CONVERSIONS) as pool:
        pairs = list(pool.map(lambda _: create_and_convert(http), range(CONVERSIONS)))
        stored = running.app.store.invoices()
        estimates = running.app.store.estimates()

    assert [(c.status_code, v.status_code) for c, v in pairs] == [(201, 200)] * CONVERSIONS
    created = [c.json() for c, _ in pairs]
    assert len({estimate["_id"] for estimate in created}) == CONVERSIONS
    assert sorted(estimate["estimateNumber"] for estimate in created) == \
        list(range(1, CONVERSIONS + 1))
    invoices = [v.json()["invoice"] for _, v in pairs]
    assert sorted(int(invoice["invoiceNumber"]) for invoice in invoices) == \
        list(range(1, CONVERSIONS + 1))
    # Each conversion converted its own estimate, and the store holds what was answered.
    assert [v.json()["estimate"]["_id"] for _, v in pairs] == [e["_id"] for e in created]
    assert sorted(i["_id"] for i in stored) == sorted(i["_id"] for i in invoices)
    assert {e["_id"] for e in created} <= {e["_id"] for e in estimates}
    assert all(e["estimateStatus"] == "invoiced" for e in estimates
               if e["_id"] in {c["_id"] for c in created})


@pytest.fixture
def preemptive() -> Iterator[None]:
    """Threads switch as often as the interpreter allows, so that a missing lock shows."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("preemptive")
def test_store_under_threads_without_http() -> None:
    store = Store(SEED)
    request = {"altId": HOME.location_id, "altType": "location", "markAsInvoiced": True}
    threads, each = 8, 100
    now = datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(lambda: [store.convert(DOCUMENTED, request, now)
                                            for _ in range(each)]) for _ in range(threads)]:
            future.result(timeout=BOUND)
    numbers = [invoice["invoiceNumber"] for invoice in store.invoices()]
    assert numbers == [str(n) for n in range(1, threads * each + 1)]
