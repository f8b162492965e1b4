"""A team's own contract test: the calls our application makes, held to the contract by the suite.

`ghl` is the suite's probe: it sends through the run's client (write budget, rate limit, redaction,
recording), judges every answer as the packaged tests do, records what it creates for cleanup,
and fails the test at the pointer of each breaking finding. Run it with the suite:

    ghl-contract run --tests examples/own-tests            # against the embedded mock
    pytest -p ghl_contract.pytest_plugin examples/own-tests  # the same, through plain pytest
"""

from __future__ import annotations

import pytest

from ghl_contract.suite import Probe


# Our application converts without marking the estimate invoiced, then shows the invoice.
@pytest.mark.ghl_requests(requests=2, writes=1)
def test_our_app_converts_without_marking_then_reads_the_invoice(ghl: Probe) -> None:
    request = {**ghl.documented_request(), "markAsInvoiced": False}
    converted = ghl.send(request)
    ghl.require(converted)
    invoice = converted.body()["invoice"]
    read = ghl.send(operation="get-invoice", path={"invoiceId": invoice["_id"]},
                    query=ghl.query("get-invoice"))
    ghl.require(read)
    assert read.body()["total"] == invoice["total"]


# Our application lists the estimates of a location a page at a time.
@pytest.mark.ghl_requests(requests=1, writes=0)
def test_our_app_pages_through_estimates(ghl: Probe) -> None:
    ghl.require(ghl.send(operation="list-estimates",
                         query=ghl.query("list-estimates", limit="2", offset="0")))
