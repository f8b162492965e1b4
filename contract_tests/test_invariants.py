"""Each invariant of a converted estimate, by its stable rule id, over every estimate the run knows.

The checks themselves are the product's (`ghl_contract.invariants`, run on every answer by the
suite's examiner); a test here fails when its rule was found, or when a breaking finding at one of
the fields the invariant reads (or about the whole answer) leaves it unverifiable.
"""

from __future__ import annotations

import pytest

from ghl_contract.suite import INVARIANT_READS, Probe


@pytest.mark.ghl_requests(converts=True)
@pytest.mark.parametrize("rule", INVARIANT_READS)
def test_invariant_holds(ghl: Probe, rule: str) -> None:
    converted = [ghl.converted(estimate) for estimate in ghl.target.estimate_ids]
    ghl.require(*converted, rules={rule}, reads=INVARIANT_READS[rule])


@pytest.mark.ghl_requests(converts=True)
def test_rate_limit_headers_are_present(ghl: Probe) -> None:
    # Non-breaking: reported always, failing only under --strict-drift.
    converted = [ghl.converted(estimate) for estimate in ghl.target.estimate_ids]
    ghl.require(*converted, rules={"rate-limit-headers-missing"})
