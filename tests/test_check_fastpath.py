"""The float shortcuts of the payload invariants never change a verdict of the Decimal rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghl_contract import invariants
from ghl_contract import money as money_rule
from ghl_contract.findings import Finding
from ghl_contract.invariants import Facts, check_all, locate
from ghl_contract.money import invoice_total

money = st.decimals(min_value=0, max_value=100_000, places=2).map(float)
rates = st.sampled_from([0, 5, 8.5, 10, 19.6, 20, 33.33])
items = st.lists(
    st.fixed_dictionaries(
        {"name": st.just("line"), "currency": st.just("USD"), "amount": money,
         "qty": st.one_of(st.integers(0, 50), st.sampled_from([0.5, 1.5, 2.25]))},
        optional={"taxes": st.lists(st.fixed_dictionaries({"rate": rates}), max_size=2),
                  "taxInclusive": st.booleans(), "productId": st.sampled_from(["a", "b"])}),
    min_size=1, max_size=4)
discounts = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["percentage", "fixed"]),
         "value": st.decimals(min_value=0, max_value=60, places=2).map(float)},
        optional={"validOnProductIds": st.just(["a"])}))
# Around the edges of the one-cent tolerance, and well past them.
noise = st.one_of(st.sampled_from([0, 0.004, -0.004, 0.005, -0.005, 0.009, -0.0099, 0.01,
                                   -0.01, 0.011, -0.015, 0.016, 0.02, 1.0]),
                  st.floats(-0.03, 0.03))


def _invoice(lines: list[dict[str, Any]], discount: dict[str, Any] | None, total_noise: float,
             paid_share: float, due_noise: float) -> dict[str, Any]:
    total = float(invoice_total(lines, discount)) + total_noise
    paid = round(total * paid_share, 2)
    invoice: dict[str, Any] = {"invoiceItems": lines, "total": total, "amountPaid": paid,
                               "amountDue": total - paid + due_noise, "currency": "USD"}
    if discount is not None:
        invoice["discount"] = discount
    return {"invoice": invoice, "estimate": {"currency": "USD"}}


def response_findings(payload: dict[str, Any]) -> list[Finding]:
    """The payload invariants of a conversion's answer (its invoice and estimate)."""
    objects = locate(payload, {"invoice": "/invoice", "estimate": "/estimate"})
    return check_all(Facts(objects), exchange=False)


def _verdicts(payload: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(f.pointer, f.rule, f.message, f.expected, f.actual)
            for f in response_findings(payload)]


@settings(max_examples=400, deadline=None)
@given(lines=items, discount=discounts, total_noise=noise,
       paid_share=st.sampled_from([0, 0.25, 1 / 3, 1]), due_noise=noise)
def test_float_shortcut_agrees_with_the_decimal_rule(
        lines: list[dict[str, Any]], discount: dict[str, Any] | None, total_noise: float,
        paid_share: float, due_noise: float) -> None:
    payload = _invoice(lines, discount, total_noise, paid_share, due_noise)
    with_shortcut = _verdicts(payload)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(money_rule, "float_total", lambda *_: None)
        patch.setattr(invariants, "DUE_MARGIN", -1.0)  # no difference is ever within it
        decimal_only = _verdicts(payload)
    assert with_shortcut == decimal_only


@pytest.mark.parametrize(("total", "due", "rules"), [
    pytest.param(999, 999, [], id="consistent"),
    pytest.param(999.01, 999.01, [], id="one-cent-rounding-tolerated"),
    pytest.param(999.02, 999.02, ["total-mismatch"], id="two-cents-off"),
    pytest.param(1e300, 1e300, ["total-mismatch"], id="total-beyond-decimal-precision"),
    pytest.param(999, 1e300, ["amount-due-mismatch"], id="amount-due-beyond-decimal-precision"),
])
def test_extreme_and_edge_amounts(total: float, due: float, rules: list[str]) -> None:
    payload = {"invoice": {"invoiceItems": [{"amount": 999, "qty": 1}], "total": total,
                           "amountPaid": 0, "amountDue": due}}
    assert [f.rule for f in response_findings(payload)] == rules


def test_malformed_taxes_are_left_to_the_schema() -> None:
    payload = {"invoice": {"invoiceItems": [{"amount": 999, "qty": 1, "taxes": ["VAT"]}],
                           "total": 999, "amountPaid": 0, "amountDue": 999}}
    assert response_findings(payload) == []


def test_shortcut_bounds_hold_for_large_orders() -> None:
    lines = [{"amount": 9_999.99, "qty": 99, "taxes": [{"rate": 19.6}]} for _ in range(400)]
    total = invoice_total(lines, {"type": "fixed", "value": 1234.56})
    assert total > Decimal(1_000_000)
    payload = _invoice(lines, {"type": "fixed", "value": 1234.56}, 0, 0, 0)
    assert response_findings(payload) == []


OBJECTS = {"invoice": "/invoice", "estimate": "/estimate"}
bodies = st.one_of(
    st.builds(_invoice, items, discounts, noise, st.sampled_from([0, 0.25, 1]), noise),
    st.fixed_dictionaries({}, optional={
        "invoice": st.one_of(st.none(), st.lists(st.integers(), max_size=2),
                             st.fixed_dictionaries({"total": money, "currency": st.just("EUR")})),
        "estimate": st.one_of(st.text(max_size=3), st.fixed_dictionaries(
            {"currency": st.sampled_from(["USD", "EUR", 5])}))}),
    st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_payload_checks_made_ready_once_give_what_check_all_gives(body: Any) -> None:
    found = locate(body, OBJECTS)
    expected = check_all(Facts(found), exchange=False) if found else []
    assert invariants.payload_checks(OBJECTS)(body) == expected
