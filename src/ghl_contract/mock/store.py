"""The mock's state behind one lock: estimates, invoices created, the next number per location."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from ghl_contract.mock.derive import derive_invoice, timestamp
from ghl_contract.mock.seed import Estimate, Seed

INVOICED = "Invoiced"  # the action-history entry of a conversion with markAsInvoiced


class Store:
    """Estimates (copied from the seed, then changed by conversions) and the invoices created.

    Every read and write holds the lock, and a conversion numbers, records and serializes its
    invoice in one critical section: no lost invoice, no number given twice, and a response
    that shows the estimate as that conversion left it.
    """

    def __init__(self, seed: Seed) -> None:
        self._lock = threading.Lock()
        self._estimates: dict[str, Estimate] = {}
        self._owners: dict[str, str] = {}
        self._next_number: dict[str, int] = {}
        self._invoices: list[dict[str, Any]] = []
        for location in seed.locations:
            self._next_number[location.location_id] = 1
            for estimate_id, estimate in location.estimates.items():
                self._estimates[estimate_id] = orjson.loads(orjson.dumps(estimate))
                self._owners[estimate_id] = location.location_id

    def owner(self, estimate_id: str) -> str | None:
        """The location that owns `estimate_id`; None if there is no such (undeleted) estimate."""
        with self._lock:
            estimate = self._estimates.get(estimate_id)
            if estimate is None or estimate.get("deleted") is True:
                return None
            return self._owners[estimate_id]

    def estimate(self, estimate_id: str) -> Estimate | None:
        """A copy of the estimate as it is now."""
        with self._lock:
            estimate = self._estimates.get(estimate_id)
            return None if estimate is None else orjson.loads(orjson.dumps(estimate))

    def convert(self, estimate_id: str, request: Mapping[str, Any], now: datetime) -> bytes:
        """Create the invoice for `estimate_id`; return the 200 body {estimate, invoice} as JSON."""
        with self._lock:
            estimate = self._estimates[estimate_id]
            location = self._owners[estimate_id]
            number = self._next_number[location]
            self._next_number[location] = number + 1
            if request.get("markAsInvoiced") is True:
                stamp = timestamp(now)
                estimate["estimateStatus"] = "invoiced"
                estimate["updatedAt"] = stamp
                history = estimate.setdefault("estimateActionHistory", [])
                entry = {"action": INVOICED, "timestamp": stamp}
                # Invoicing again right after an invoicing updates that entry rather than adding
                # one, so that an estimate converted thousands of times keeps a bounded history.
                if history and history[-1].get("action") == INVOICED:
                    history[-1] = entry
                else:
                    history.append(entry)
            invoice = derive_invoice(estimate, request, number, now)
            self._invoices.append(invoice)
            return orjson.dumps({"estimate": estimate, "invoice": invoice})

    def invoices(self) -> list[dict[str, Any]]:
        """Copies of the invoices created so far, in the order they were created."""
        result: list[dict[str, Any]] = orjson.loads(self.invoices_json())
        return result

    def invoices_json(self) -> bytes:
        with self._lock:
            return orjson.dumps(self._invoices)
