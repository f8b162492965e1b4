"""The mock's state behind one lock: estimates, invoices and each location's next numbers.

Every operation reads and changes the state in one critical section: a conversion numbers,
records and serializes its invoice at once, so concurrent requests never lose an invoice nor share
a number, and each answer shows its objects as its own request left them. Invoices, the objects
that grow with load, are kept as the bytes their conversion answered (in tuples of strings and
bytes, which the garbage collector stops tracking): a full collection never walks them, however
many there are, and a read-back answers the very bytes the conversion did.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from ghl_contract.mock.behaviour import DOCUMENTED, Behaviour
from ghl_contract.mock.derive import (
    NewEstimate,
    derive_invoice,
    documented_estimate,
    local_timestamp,
    new_id,
    observed_estimate,
    timestamp,
)
from ghl_contract.mock.seed import Estimate, Location, Seed

INVOICED = "Invoiced"  # the action-history entry of a conversion with markAsInvoiced
FORBIDDEN = "The token does not have access to this location."
DRAFT = "draft"
VOID = "void"


class Refused(Exception):
    """A request the mock refuses: the status of its answer, HighLevel's message (a list for a
    422's problems) and, as NestJS adds to some, the status's name."""

    def __init__(self, status: int, message: str | list[str], error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error

    def body(self) -> dict[str, Any]:
        """The answer's JSON body, in the shape every error of the contract has."""
        body: dict[str, Any] = {"statusCode": self.status, "message": self.message}
        if self.error is not None:
            body["error"] = self.error
        return body


@dataclass(frozen=True)
class Access:
    """Who asks: the location the token opens, and the altId the request names."""

    location: str
    alt_id: Any

    def check(self, owner: str | None = None) -> None:
        """403 unless the request names the token's location (and it owns the object)."""
        if self.alt_id != self.location or (owner is not None and owner != self.location):
            raise Refused(403, FORBIDDEN)


class StoredInvoice(NamedTuple):
    """An invoice as kept: its location, its status and its body as last answered."""

    owner: str
    status: str
    body: bytes


class Store:
    """The estimates (copied from the seed, then created, changed and deleted through the API)
    and the invoices created from them, under `behaviour`'s rules where profiles differ."""

    def __init__(self, seed: Seed, behaviour: Behaviour = DOCUMENTED) -> None:
        self.behaviour = behaviour
        self._lock = threading.Lock()
        self._locations: dict[str, Location] = {}
        self._estimates: dict[str, Estimate] = {}
        self._owners: dict[str, str] = {}
        self._next_invoice: dict[str, int] = {}
        self._next_estimate: dict[str, int] = {}
        self._invoices: dict[str, StoredInvoice] = {}
        for location in seed.locations:
            self._locations[location.location_id] = location
            self._next_invoice[location.location_id] = 1
            numbers = [e["estimateNumber"] for e in location.estimates.values()
                       if isinstance(e.get("estimateNumber"), int)]
            self._next_estimate[location.location_id] = max(numbers, default=0) + 1
            for estimate_id, estimate in location.estimates.items():
                copied = orjson.loads(orjson.dumps(estimate))
                if behaviour.observed_objects:
                    copied["estimateActionHistory"] = [
                        _as_observed(entry, location) for entry in
                        copied.get("estimateActionHistory", [])]
                self._estimates[estimate_id] = copied
                self._owners[estimate_id] = location.location_id

    # --- reading, for tests and the mock's own routes ----------------------------------------

    def owner(self, estimate_id: str) -> str | None:
        """The location that owns `estimate_id`; None if there is no such (undeleted) estimate."""
        with self._lock:
            estimate = self._estimates.get(estimate_id)
            if estimate is None or estimate.get("deleted") is True:
                return None
            return self._owners[estimate_id]

    def estimate(self, estimate_id: str) -> Estimate | None:
        """A copy of the estimate as it is now (a deleted one too)."""
        with self._lock:
            estimate = self._estimates.get(estimate_id)
            return None if estimate is None else orjson.loads(orjson.dumps(estimate))

    def estimates(self) -> list[Estimate]:
        """Copies of the estimates that are not deleted, seeded ones first, then as created."""
        result: list[Estimate] = orjson.loads(self.estimates_json())
        return result

    def estimates_json(self) -> bytes:
        with self._lock:
            return orjson.dumps([estimate for estimate in self._estimates.values()
                                 if estimate.get("deleted") is not True])

    def invoices(self) -> list[dict[str, Any]]:
        """Copies of the invoices that are not deleted, as they are now, in the order created."""
        result: list[dict[str, Any]] = orjson.loads(self.invoices_json())
        return result

    def invoices_json(self) -> bytes:
        with self._lock:
            return b"[" + b",".join(stored.body for stored in self._invoices.values()) + b"]"

    # --- estimates ---------------------------------------------------------------------------

    def create_estimate(self, request: Mapping[str, Any], access: Access, now: datetime) -> bytes:
        """Create the estimate `request` describes in the token's location; its body as JSON."""
        access.check()
        with self._lock:
            location = self._locations[access.location]
            number = self._next_estimate[access.location]
            self._next_estimate[access.location] = number + 1
            new = NewEstimate(new_id(), number, location.company_id, location.time_zone, now)
            shape = self.behaviour.created.get("estimate") \
                if self.behaviour.observed_objects else None
            estimate = documented_estimate(request, new) if shape is None else \
                observed_estimate(request, new, shape.fields, shape.configuration)
            self._estimates[new.estimate_id] = estimate
            self._owners[new.estimate_id] = access.location
            return orjson.dumps(estimate)

    def list_estimates(self, query: Mapping[str, str], access: Access) -> bytes:
        """A page of the location's undeleted estimates, newest first, filtered as `query` asks:
        `{estimates, total, traceId}` as JSON."""
        access.check()
        status, search = query.get("status", "all"), query.get("search", "").casefold()
        contact, start, end = query.get("contactId"), query.get("startAt"), query.get("endAt")
        offset, limit = int(query["offset"]), int(query["limit"])
        with self._lock:
            found = [
                estimate for estimate_id, estimate in reversed(self._estimates.items())
                if self._owners[estimate_id] == access.location
                and estimate.get("deleted") is not True
                and (status == "all" or estimate.get("estimateStatus") == status)
                and search in str(estimate.get("name", "")).casefold()
                and (contact is None or estimate.get("contactDetails", {}).get("id") == contact)
                and (start is None or str(estimate.get("issueDate", ""))[:10] >= start)
                and (end is None or str(estimate.get("issueDate", ""))[:10] <= end)
            ]
            return orjson.dumps({"estimates": found[offset:offset + limit], "total": len(found),
                                 "traceId": str(uuid.uuid4())})

    def delete_estimate(self, estimate_id: str, access: Access, now: datetime) -> bytes:
        """Mark the estimate deleted; the estimate as JSON. It is then unknown (404)."""
        with self._lock:
            estimate = self._estimate(estimate_id, access)
            estimate["deleted"] = True
            estimate["updatedAt"] = timestamp(now)
            return orjson.dumps(estimate)

    def _estimate(self, estimate_id: str, access: Access | None) -> Estimate:
        estimate = self._estimates.get(estimate_id)
        if estimate is None or estimate.get("deleted") is True:
            raise Refused(404, f"No estimate found with id {estimate_id}.")
        if access is not None:
            access.check(self._owners[estimate_id])
        return estimate

    # --- invoices ----------------------------------------------------------------------------

    def convert(self, estimate_id: str, request: Mapping[str, Any], now: datetime,
                access: Access | None = None) -> bytes:
        """Create the invoice for `estimate_id`; return the 200 body {estimate, invoice} as JSON.
        `access` None: the caller has checked who asks."""
        with self._lock:
            estimate = self._estimate(estimate_id, access)
            location = self._owners[estimate_id]
            mark = request.get("markAsInvoiced") is True
            if mark and self.behaviour.reinvoicing_refused \
                    and estimate.get("estimateStatus") == "invoiced":
                raise Refused(400, "Estimate is already invoiced.")
            number = self._next_invoice[location]
            self._next_invoice[location] = number + 1
            if mark:
                self._mark_invoiced(estimate, location, now)
            invoice = derive_invoice(estimate, request, number, now)
            body = orjson.dumps(invoice)
            self._invoices[invoice["_id"]] = StoredInvoice(location, DRAFT, body)
            return b'{"estimate":' + orjson.dumps(estimate) + b',"invoice":' + body + b"}"

    def _mark_invoiced(self, estimate: Estimate, location: str, now: datetime) -> None:
        stamp = timestamp(now)
        estimate["estimateStatus"] = "invoiced"
        estimate["updatedAt"] = stamp
        history = estimate.setdefault("estimateActionHistory", [])
        if self.behaviour.observed_objects:
            zone = self._locations[location].time_zone
            entry = {"estimateStatus": "invoiced", "updatedAt": local_timestamp(now, zone)}
            again = bool(history) and history[-1].get("estimateStatus") == "invoiced"
        else:
            entry = {"action": INVOICED, "timestamp": stamp}
            again = bool(history) and history[-1].get("action") == INVOICED
        # Invoicing again right after an invoicing updates that entry rather than adding one, so
        # that an estimate converted thousands of times keeps a bounded history.
        if again:
            history[-1] = entry
        else:
            history.append(entry)

    def read_invoice(self, invoice_id: str, access: Access) -> bytes:
        """The invoice as JSON: the very body its conversion (or its void) answered."""
        with self._lock:
            return self._invoice(invoice_id, access).body

    def list_invoices(self, query: Mapping[str, str], access: Access) -> bytes:
        """A page of the location's undeleted invoices, newest first (or by issueDate as
        sortField and sortOrder ask), filtered as `query` asks: `{invoices, total}` as JSON.
        `search` looks in the id, the name, the contact's e-mail and phone number; `paymentMode`
        live or test picks by liveMode (default: either)."""
        access.check()
        search = query.get("search", "").casefold()
        status, contact = query.get("status"), query.get("contactId")
        start, end, mode = query.get("startAt"), query.get("endAt"), query.get("paymentMode")
        offset, limit = int(query["offset"]), int(query["limit"])
        with self._lock:
            mine = [orjson.loads(stored.body) for stored in reversed(self._invoices.values())
                    if stored.owner == access.location]
        found = [
            invoice for invoice in mine
            if (not search or any(search in str(value).casefold() for value in (
                invoice.get("_id"), invoice.get("name"), invoice.get("contactDetails", {}).get(
                    "email"), invoice.get("contactDetails", {}).get("phoneNo")) if value))
            and (status is None or invoice.get("status") == status)
            and (contact is None or invoice.get("contactDetails", {}).get("id") == contact)
            and (start is None or str(invoice.get("issueDate", ""))[:10] >= start)
            and (end is None or str(invoice.get("issueDate", ""))[:10] <= end)
            and (mode in (None, "default") or invoice.get("liveMode") is (mode == "live"))
        ]
        if query.get("sortField") == "issueDate":
            found.sort(key=lambda invoice: str(invoice.get("issueDate", "")),
                       reverse=query.get("sortOrder", "descend") == "descend")
        return orjson.dumps({"invoices": found[offset:offset + limit], "total": len(found)})

    def void_invoice(self, invoice_id: str, access: Access, now: datetime) -> bytes:
        """Void the invoice (a void one stays as it is); the invoice as JSON."""
        with self._lock:
            stored = self._invoice(invoice_id, access)
            if stored.status == VOID:
                return stored.body
            if stored.status == DRAFT and self.behaviour.draft_void_refused:
                raise Refused(400, "Can not void draft invoice. You can delete draft invoice!")
            invoice = orjson.loads(stored.body)
            invoice["status"] = VOID
            invoice["updatedAt"] = timestamp(now)
            body = orjson.dumps(invoice)
            self._invoices[invoice_id] = StoredInvoice(stored.owner, VOID, body)
            return body

    def delete_invoice(self, invoice_id: str, access: Access) -> bytes:
        """Delete a draft invoice; the invoice as it was, as JSON. It is then unknown (404)."""
        with self._lock:
            stored = self._invoice(invoice_id, access)
            if stored.status != DRAFT:
                raise Refused(400, "Invoice status need to be draft to delete an invoice")
            del self._invoices[invoice_id]
            return stored.body

    def _invoice(self, invoice_id: str, access: Access) -> StoredInvoice:
        stored = self._invoices.get(invoice_id)
        if stored is None:
            raise Refused(404, f"No invoice found with id {invoice_id}.")
        access.check(stored.owner)
        return stored

    def next_invoice_number(self, access: Access) -> int:
        """The number the location's next invoice will carry; asking does not use it up."""
        access.check()
        with self._lock:
            return self._next_invoice[access.location]


def _as_observed(entry: Any, location: Location) -> Any:
    """A seeded action-history entry ({action, timestamp}, as documented) as the live API was
    seen to write it: {estimateStatus, updatedAt} in the location's local time, no zone."""
    if not isinstance(entry, dict) or "timestamp" not in entry:
        return entry
    action = str(entry.get("action", ""))
    when = datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00"))
    return {"estimateStatus": "draft" if action == "Created" else action.lower(),
            "updatedAt": local_timestamp(when, location.time_zone)}
