"""Generated valid requests (Schemathesis' positive generation over the contract's OpenAPI
document) to the run's estimates: each gets 200, application/json, a body valid against the
contract and the invariants holding."""

from __future__ import annotations

import pytest

from ghl_contract.suite import SUCCESS, Probe


@pytest.mark.ghl_requests(generated="valid")
def test_generated_valid_requests_are_converted(ghl: Probe, ghl_examples: int) -> None:
    ghl.send_generated("valid", ghl_examples, SUCCESS)
