"""The estimate-to-invoice lifecycle around the conversion: an estimate created through the API is
listed, converted into an invoice that carries it, read back as the conversion answered, and
deleted with its invoice; and the reads any live run can afford, writes or not.

Each test checks one step; the steps before it are sent once per run and shared (`ghl.shared`), so
a step that fails fails its own test and skips those that need it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ghl_contract.suite import NOT_FOUND_OR_GONE, Probe, Seen
from ghl_contract.suite.verify import carried_findings, read_back_findings

# The template the lifecycle's own estimate is made from (contract_tests/data/estimates.json).
TEMPLATE = "usd-taxed-discounted"


def _created(ghl: Probe) -> Seen:
    return ghl.shared("lifecycle: estimate created", lambda: ghl.create(TEMPLATE))


def _made(ghl: Probe) -> dict[str, Any]:
    """The estimate the lifecycle created (its 201 body), or the test is skipped."""
    body = _created(ghl).body()
    if not _created(ghl).succeeded or not isinstance(body, dict) or "_id" not in body:
        pytest.skip("The lifecycle's estimate was not created (see test_estimate_is_created).")
    return body


def _converted(ghl: Probe) -> Seen:
    def convert() -> Seen:
        made = _made(ghl)
        # The documented request, marking the lifecycle's own estimate invoiced.
        request = {**ghl.documented_request(), "markAsInvoiced": True}
        seen = ghl.send(request, estimate_id=made["_id"])
        return ghl.also(seen, carried_findings(made, (seen.body() or {}).get("invoice")))
    return ghl.shared("lifecycle: estimate converted", convert)


def _invoice(ghl: Probe) -> dict[str, Any]:
    body = _converted(ghl).body()
    invoice = body.get("invoice") if isinstance(body, dict) else None
    if not _converted(ghl).succeeded or not isinstance(invoice, dict) or "_id" not in invoice:
        pytest.skip("The lifecycle's estimate was not converted (see "
                    "test_created_estimate_is_converted).")
    return invoice


def _listed(ghl: Probe, estimate: dict[str, Any]) -> Seen:
    """The listing of the run's location searched for `estimate`'s name."""
    return ghl.send(operation="list-estimates",
                    query=ghl.query("list-estimates", search=str(estimate.get("name", ""))))


def _entry(seen: Seen, estimate_id: str) -> dict[str, Any] | None:
    body = seen.body()
    listed = body.get("estimates") if isinstance(body, dict) else None
    return next((e for e in listed or [] if isinstance(e, dict) and e.get("_id") == estimate_id),
                None)


# Reads: no write needed, so a live run without --allow-writes sends them too.

@pytest.mark.ghl_requests(requests=1, writes=0)
def test_estimates_are_listed(ghl: Probe) -> None:
    ghl.require(ghl.send(operation="list-estimates", query=ghl.query("list-estimates")))


@pytest.mark.ghl_requests(requests=1, writes=0)
def test_invoices_are_listed(ghl: Probe) -> None:
    ghl.require(ghl.send(operation="list-invoices", query=ghl.query("list-invoices")))


@pytest.mark.ghl_requests(requests=1, writes=0)
def test_invoice_number_is_generated(ghl: Probe) -> None:
    ghl.require(ghl.send(operation="generate-invoice-number",
                         query=ghl.query("generate-invoice-number")))


# The lifecycle of one estimate.

@pytest.mark.ghl_requests(requests=1, writes=1, creates=1)
def test_estimate_is_created(ghl: Probe) -> None:
    ghl.require(_created(ghl))


@pytest.mark.ghl_requests(requests=1, writes=1, creates=1)
def test_another_estimate_gets_a_new_number(ghl: Probe) -> None:
    _made(ghl)
    ghl.require(ghl.create("base"))  # a number the run saw on its first estimate is a finding


@pytest.mark.ghl_requests(requests=1, writes=0)
def test_created_estimate_is_listed(ghl: Probe) -> None:
    made = _made(ghl)
    seen = _listed(ghl, made)
    ghl.require(seen)
    if _entry(seen, made["_id"]) is None:
        ghl.fail_with(seen, "read-back-mismatch", "/estimates",
                      f"The estimate {made['_id']} the run created is not in the listing of its "
                      "location searched by its name.")


@pytest.mark.ghl_requests(requests=1, writes=1)
def test_created_estimate_is_converted(ghl: Probe) -> None:
    ghl.require(_converted(ghl))


@pytest.mark.ghl_requests(requests=1, writes=0)
def test_converted_estimate_is_listed_as_invoiced(ghl: Probe) -> None:
    _invoice(ghl)
    made = _made(ghl)
    seen = _listed(ghl, made)
    ghl.require(seen)
    entry = _entry(seen, made["_id"])
    if entry is not None and entry.get("estimateStatus") != "invoiced":
        ghl.fail_with(seen, "estimate-not-invoiced", "/estimates/*/estimateStatus",
                      f"The estimate converted with markAsInvoiced is listed with status "
                      f"{entry.get('estimateStatus')!r}, not \"invoiced\".")


@pytest.mark.ghl_requests(requests=1, writes=0)
def test_converted_invoice_is_listed_under_its_estimates_name(ghl: Probe) -> None:
    """How a cleanup finds an invoice whose conversion answer the run never saw (a killed run):
    the listing searched by the name the invoice takes from its estimate."""
    invoice = _invoice(ghl)
    name = str(_made(ghl).get("name", ""))
    seen = ghl.send(operation="list-invoices", query=ghl.query("list-invoices", search=name))
    ghl.require(seen)
    body = seen.body()
    listed = body.get("invoices") if isinstance(body, dict) else None
    if not any(isinstance(i, dict) and i.get("_id") == invoice["_id"] for i in listed or []):
        ghl.fail_with(seen, "read-back-mismatch", "/invoices",
                      f"The invoice {invoice['_id']} the run converted is not in the listing of "
                      f"its location searched by its estimate's name {name!r}.")


@pytest.mark.ghl_requests(requests=1, writes=0)
def test_invoice_reads_back_as_converted(ghl: Probe) -> None:
    invoice = _invoice(ghl)
    seen = ghl.send(operation="get-invoice", path={"invoiceId": invoice["_id"]},
                    query=ghl.query("get-invoice"))
    # A field the conversion's answer was already reported for (acknowledged by a baseline or
    # not) is that finding's business.
    reported = [f.pointer.removeprefix("/invoice") for f in _converted(ghl).reported
                if f.pointer.startswith("/invoice/")]
    ghl.require(ghl.also(seen, read_back_findings(invoice, seen.body(), reported=reported)))


@pytest.mark.ghl_requests(requests=2, writes=1)
def test_invoice_is_deleted(ghl: Probe) -> None:
    invoice = _invoice(ghl)
    path, query = {"invoiceId": invoice["_id"]}, ghl.query("delete-invoice")
    ghl.require(ghl.send(operation="delete-invoice", path=path, query=query))
    ghl.require(ghl.send(operation="get-invoice", path=path, query=ghl.query("get-invoice"),
                         expect=NOT_FOUND_OR_GONE), what="Reading the deleted invoice")


def _deleted(ghl: Probe) -> Seen:
    def delete() -> Seen:
        made = _made(ghl)
        alt = {"altId": ghl.target.location_id, "altType": "location"}
        return ghl.send(alt, operation="delete-estimate", path={"estimateId": made["_id"]})
    return ghl.shared("lifecycle: estimate deleted", delete)


@pytest.mark.ghl_requests(requests=2, writes=1)
def test_estimate_is_deleted(ghl: Probe) -> None:
    made = _made(ghl)
    deleted = _deleted(ghl)
    ghl.require(deleted)
    body = deleted.body()
    if isinstance(body, dict) and body.get("deleted") is not True:
        ghl.fail_with(deleted, "read-back-mismatch", "/deleted",
                      f"The deleted estimate answers deleted {body.get('deleted')!r}, not true.")
    seen = _listed(ghl, made)
    ghl.require(seen)
    if _entry(seen, made["_id"]) is not None:
        ghl.fail_with(seen, "read-back-mismatch", "/estimates",
                      f"The deleted estimate {made['_id']} is still listed.")


@pytest.mark.ghl_requests(requests=1, writes=1)
def test_deleted_estimate_is_not_converted(ghl: Probe) -> None:
    made = _made(ghl)
    if not _deleted(ghl).succeeded:
        pytest.skip("The lifecycle's estimate was not deleted (see test_estimate_is_deleted).")
    ghl.require(ghl.send(ghl.documented_request(), estimate_id=made["_id"],
                         expect=NOT_FOUND_OR_GONE),
                what="Converting the deleted estimate")
