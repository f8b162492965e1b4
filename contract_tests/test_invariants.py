"""Each invariant of a converted estimate, by its stable rule id, over every estimate the run knows.

The checks themselves are the product's (`ghl_contract.invariants`, run on every answer by the
suite's examiner); a test here fails when its rule was found, or when a breaking finding at one of
the fields the invariant reads (or about the whole answer) leaves it unverifiable.
"""

from __future__ import annotations

import pytest

from ghl_contract.invariants import INPUTS
from ghl_contract.suite import Probe

INVARIANTS = (
    "alt-id-mismatch",
    "alt-type-mismatch",
    "currency-mismatch",
    "items-mismatch",
    "total-mismatch",
    "amount-due-mismatch",
    "status-not-draft",
    "estimate-mismatch",
    "invoice-number-reused",
)
# The fields an invariant reads, for those the product's table does not list.
READS = {**INPUTS, "invoice-number-reused": ("/invoice/invoiceNumber",)}


@pytest.mark.ghl_requests(converts=True)
@pytest.mark.parametrize("rule", INVARIANTS)
def test_invariant_holds(ghl: Probe, rule: str) -> None:
    converted = [ghl.converted(estimate) for estimate in ghl.target.estimate_ids]
    ghl.require(*converted, rules={rule}, reads=READS[rule])


@pytest.mark.ghl_requests(converts=True)
def test_rate_limit_headers_are_present(ghl: Probe) -> None:
    # Non-breaking: reported always, failing only under --strict-drift.
    converted = [ghl.converted(estimate) for estimate in ghl.target.estimate_ids]
    ghl.require(*converted, rules={"rate-limit-headers-missing"})
