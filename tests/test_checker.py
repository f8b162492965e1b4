"""The checker on the documented response: no finding for it, one precise finding per change."""

from __future__ import annotations

from typing import Any

from ghl_contract.judge import check_payload


def test_documented_response_has_no_finding(documented_response: dict[str, Any]) -> None:
    assert check_payload(documented_response) == []


def test_added_field_is_one_non_breaking_finding(documented_response: dict[str, Any]) -> None:
    documented_response["invoice"]["paymentLink"] = "https://example.test/pay"
    [finding] = check_payload(documented_response)
    assert (finding.pointer, finding.rule, finding.severity) == (
        "/invoice/paymentLink", "property-added", "non-breaking")
