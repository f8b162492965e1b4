"""The documented request converts each known estimate: 200, a body valid against the contract,
the invariants holding (the estimate returned is the one requested, items carried over...)."""

from __future__ import annotations

import pytest

from ghl_contract.suite import Probe


@pytest.mark.ghl_requests(converts=True)
def test_documented_request_is_converted(ghl: Probe, ghl_estimate: str) -> None:
    ghl.require(ghl.converted(ghl_estimate))
