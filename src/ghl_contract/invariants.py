"""Semantic invariants no schema can express, each with its stable rule id (see rules.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from ghl_contract.findings import Finding, show
from ghl_contract.money import float_total, invoice_total, plain_number, to_cents
from ghl_contract.rules import severity

# Totals may differ by a cent from either rounding of the rule (money.py): the sum, or each line.
TOLERANCE = Decimal("0.01")

# The float shortcut, taken only where the Decimal rule cannot find a mismatch. Rounding a value
# half-up to the cent moves it by at most 0.005, and two values whose difference stays under 0.02
# after rounding differ by at most TOLERANCE (in whole cents). A float total within TOTAL_MARGIN of
# the stated one is at most 0.0094 from the Decimal total (money.FLOAT_LIMIT), hence under 0.02
# after rounding both. amountDue within DUE_MARGIN of total - amountPaid: 0.004 + 3 * 0.005 < 0.02.
TOTAL_MARGIN = 0.009
DUE_MARGIN = 0.004

# The payload fields each invariant reads. A breaking schema finding at or under one of them already
# names the change, so the checker drops the invariant's finding then (`*` is any array index).
INPUTS: Mapping[str, tuple[str, ...]] = {
    "amount-due-mismatch": ("/invoice/total", "/invoice/amountPaid", "/invoice/amountDue"),
    "total-mismatch": (
        "/invoice/total", "/invoice/discount", "/invoice/invoiceItems/*/amount",
        "/invoice/invoiceItems/*/qty", "/invoice/invoiceItems/*/taxes",
        "/invoice/invoiceItems/*/taxInclusive", "/invoice/invoiceItems/*/productId",
    ),
    "currency-mismatch": ("/invoice/currency", "/estimate/currency"),
    "alt-id-mismatch": ("/invoice/altId",),
    "alt-type-mismatch": ("/invoice/altType",),
    "status-not-draft": ("/invoice/status",),
    "estimate-mismatch": ("/estimate/_id",),
    "items-mismatch": (
        "/invoice/invoiceItems/*/name", "/invoice/invoiceItems/*/qty",
        "/invoice/invoiceItems/*/amount", "/estimate/items/*/name", "/estimate/items/*/qty",
        "/estimate/items/*/amount",
    ),
}


def _finding(rule: str, at: str, message: str, expected: Any, actual: Any,
             source: str | None) -> Finding:
    return Finding(at, rule, severity(rule), message, expected, actual, source)


def _number(value: Any) -> TypeGuard[int | float]:
    return type(value) in (int, float) or (
        isinstance(value, int | float) and not isinstance(value, bool))


def _cents(value: int | float) -> Decimal:
    """`value` to the cent; a value too large to carry cents (1e300) stays as it is."""
    try:
        return to_cents(value)
    except InvalidOperation:
        return Decimal(str(value))


def _shown(amount: Decimal) -> str:
    """An amount for a message: to the cent, or in scientific notation when that is too long."""
    text = str(amount)
    return text if len(text) <= 24 else f"{amount:.6E}"


def _value(amount: Decimal) -> float | str:
    """An amount for a report's `expected`: a JSON number, or its text past a double's range."""
    number = float(amount)
    return number if math.isfinite(number) else str(amount)


def response_findings(payload: Any, source: str | None = None) -> list[Finding]:
    """Invariants that need only a 200 body; parts the schema already flags are skipped.

    Runs on every payload `check` reads: the float shortcut answers for consistent payloads, and
    the Decimal rule (money.py) decides every other case and words the finding.
    """
    # `type(x) is dict` first: what JSON parsers make, without the slower ABC check
    if type(payload) is not dict and not isinstance(payload, Mapping):
        return []
    invoice, estimate = payload.get("invoice"), payload.get("estimate")
    if type(invoice) is not dict and not isinstance(invoice, Mapping):
        return []
    findings: list[Finding] = []
    total, paid, due = invoice.get("total"), invoice.get("amountPaid"), invoice.get("amountDue")
    items = invoice.get("invoiceItems")
    discount = invoice.get("discount")
    if type(discount) is not dict and not isinstance(discount, Mapping):
        discount = None
    computed: Decimal | None = None
    if _number(total) and isinstance(items, list) and all(
            type(i) is dict or isinstance(i, Mapping) for i in items):
        fast = float_total(items, discount) if plain_number(total) else None
        if fast is None or abs(fast - total) > TOTAL_MARGIN:
            try:
                added_up = invoice_total(items, discount)
                by_line = invoice_total(items, discount, per_line=True)
            except (ValueError, ArithmeticError, TypeError, AttributeError):
                pass  # a malformed item or tax: the schema's finding
            else:
                stated = _cents(total)
                if min(abs(stated - added_up), abs(stated - by_line)) > TOLERANCE:
                    computed = added_up
            if computed is not None:
                also = "" if by_line == computed else f" ({_shown(by_line)} rounding each line)"
                findings.append(_finding(
                    "total-mismatch", "/invoice/total",
                    f"total is {show(total)}, but its items, taxes and discount add up to "
                    f"{_shown(computed)}{also}.", _value(computed), total, source))
    settled = (plain_number(total) and plain_number(paid) and plain_number(due)
               and abs(due - (total - paid)) <= DUE_MARGIN)
    if not settled and _number(total) and _number(paid) and _number(due):
        expected_due = _cents(total) - _cents(paid)
        wrong_due = abs(_cents(due) - expected_due) > TOLERANCE
        # A total that disagrees with its items is the one change when amountDue agrees with
        # the items' total instead: one finding (total-mismatch), not two.
        if wrong_due and computed is not None:
            wrong_due = abs(_cents(due) - (computed - _cents(paid))) > TOLERANCE
        if wrong_due:
            findings.insert(0, _finding(
                "amount-due-mismatch", "/invoice/amountDue",
                f"amountDue is {show(due)}, but total {show(total)} minus amountPaid {show(paid)} "
                f"is {_shown(expected_due)}.", _value(expected_due), due, source))
    if type(estimate) is dict or isinstance(estimate, Mapping):
        ours, theirs = invoice.get("currency"), estimate.get("currency")
        if isinstance(ours, str) and isinstance(theirs, str) and ours != theirs:
            findings.append(_finding(
                "currency-mismatch", "/invoice/currency",
                f"The invoice is in {show(ours)}, but the estimate is in {show(theirs)}.",
                theirs, ours, source))
    return findings


def _item_key(item: Any) -> tuple[Any, ...]:
    if not isinstance(item, Mapping):
        return (item,)
    return (item.get("name"), item.get("qty"), item.get("amount"))


def exchange_findings(request: Mapping[str, Any], estimate_id: str, payload: Any,
                      source: str | None = None) -> list[Finding]:
    """Invariants between the request that was sent and the 200 body that came back."""
    if not isinstance(payload, Mapping):
        return []
    invoice, estimate = payload.get("invoice"), payload.get("estimate")
    findings: list[Finding] = []
    if isinstance(invoice, Mapping):
        for field, rule in (("altId", "alt-id-mismatch"), ("altType", "alt-type-mismatch")):
            if field in request and field in invoice and invoice[field] != request[field]:
                findings.append(_finding(
                    rule, f"/invoice/{field}",
                    f"The invoice's {field} is {show(invoice[field])}, but the request sent "
                    f"{show(request[field])}.", request[field], invoice[field], source))
        if "status" in invoice and invoice["status"] != "draft":
            findings.append(_finding(
                "status-not-draft", "/invoice/status",
                f"A new invoice has status {show(invoice['status'])}, not \"draft\".", "draft",
                invoice["status"], source))
    if isinstance(estimate, Mapping):
        if "_id" in estimate and estimate["_id"] != estimate_id:
            findings.append(_finding(
                "estimate-mismatch", "/estimate/_id",
                f"The estimate returned is {show(estimate['_id'])}, not the requested "
                f"{show(estimate_id)}.",
                estimate_id, estimate["_id"], source))
        if isinstance(invoice, Mapping):
            ours, theirs = invoice.get("invoiceItems"), estimate.get("items")
            if isinstance(ours, list) and isinstance(theirs, list):
                want = [_item_key(i) for i in theirs]
                got = [_item_key(i) for i in ours]
                if want != got:
                    findings.append(_finding(
                        "items-mismatch", "/invoice/invoiceItems",
                        f"The invoice has {len(got)} items that differ from the estimate's "
                        f"{len(want)} (name, qty, amount).",
                        [list(k) for k in want], [list(k) for k in got], source))
    return findings
