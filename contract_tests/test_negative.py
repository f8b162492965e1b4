"""Invalid requests are rejected: 400 or 422 with the documented error body, never 2xx or 5xx.

Hand-picked cases are data (data/negative_requests.json); Schemathesis' negative generation adds
bodies that break the request schema in ways nobody listed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ghl_contract.resources import contract_tests_dir
from ghl_contract.suite import NOT_FOUND_OR_GONE, REJECTED, Probe, expect

CASES_FILE = contract_tests_dir() / "data" / "negative_requests.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
# An estimate id of the documented shape (24 hex digits) that no account holds.
UNKNOWN_ESTIMATE = "000000000000000000000000"


def _placed(value: Any, location: str) -> Any:
    if isinstance(value, str):
        return value.replace("$location", location)
    if isinstance(value, list):
        return [_placed(item, location) for item in value]
    if isinstance(value, dict):
        return {key: _placed(item, location) for key, item in value.items()}
    return value


def request_body(case: dict[str, Any], location: str) -> Any:
    """What a case sends: bytes for `raw`, a JSON value for `body`, inflated when it says so."""
    if "raw" in case:
        return str(_placed(case["raw"], location)).encode("utf-8")
    body = _placed(case["body"], location)
    if "inflate" in case:
        body[case["inflate"]["field"]] = "x" * int(case["inflate"]["size"])
    return body


@pytest.mark.ghl_requests(requests=1, writes=1)
@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_invalid_request_is_rejected(ghl: Probe, case: dict[str, Any]) -> None:
    expected = expect(case["expect"]) if "expect" in case else REJECTED
    body = request_body(case, ghl.target.location_id)
    ghl.require(ghl.send(body, expect=expected), what=case["description"])


@pytest.mark.ghl_requests(generated="invalid")
def test_generated_invalid_bodies_are_rejected(ghl: Probe, ghl_examples: int) -> None:
    ghl.send_generated("invalid", ghl_examples, REJECTED)


@pytest.mark.ghl_requests(requests=1, writes=1)
def test_unknown_estimate_is_not_found(ghl: Probe) -> None:
    ghl.require(ghl.send(ghl.documented_request(), estimate_id=UNKNOWN_ESTIMATE,
                         expect=NOT_FOUND_OR_GONE))
