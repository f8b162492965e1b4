"""Semantic invariants no schema can express, each with its stable rule id (see rules.py)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ghl_contract.findings import Finding
from ghl_contract.money import invoice_total, to_cents
from ghl_contract.rules import severity

# Totals may differ by one cent when a server rounds each line rather than the sum.
TOLERANCE = Decimal("0.01")


def _finding(rule: str, at: str, message: str, expected: Any, actual: Any,
             source: str | None) -> Finding:
    return Finding(at, rule, severity(rule), message, expected, actual, source)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def response_findings(payload: Any, source: str | None = None) -> list[Finding]:
    """Invariants that need only a 200 body; parts the schema already flags are skipped."""
    if not isinstance(payload, Mapping):
        return []
    invoice, estimate = payload.get("invoice"), payload.get("estimate")
    if not isinstance(invoice, Mapping):
        return []
    findings: list[Finding] = []
    total, paid, due = invoice.get("total"), invoice.get("amountPaid"), invoice.get("amountDue")
    if _number(total) and _number(paid) and _number(due):
        expected_due = to_cents(total) - to_cents(paid)
        if abs(to_cents(due) - expected_due) > TOLERANCE:
            findings.append(_finding(
                "amount-due-mismatch", "/invoice/amountDue",
                f"amountDue is {due}, but total {total} minus amountPaid {paid} is {expected_due}.",
                float(expected_due), due, source))
    items = invoice.get("invoiceItems")
    discount = invoice.get("discount")
    if _number(total) and isinstance(items, list) and all(isinstance(i, Mapping) for i in items):
        try:
            computed = invoice_total(items, discount if isinstance(discount, Mapping) else None)
        except (ValueError, ArithmeticError, TypeError):
            computed = None  # a malformed item is the schema's finding, not this one's
        if computed is not None and abs(to_cents(total) - computed) > TOLERANCE:
            findings.append(_finding(
                "total-mismatch", "/invoice/total",
                f"total is {total}, but its items, taxes and discount add up to {computed}.",
                float(computed), total, source))
    if isinstance(estimate, Mapping):
        ours, theirs = invoice.get("currency"), estimate.get("currency")
        if isinstance(ours, str) and isinstance(theirs, str) and ours != theirs:
            findings.append(_finding(
                "currency-mismatch", "/invoice/currency",
                f"The invoice is in {ours}, but the estimate is in {theirs}.", theirs, ours, source))
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
                    f"The invoice's {field} is {invoice[field]!r}, but the request sent "
                    f"{request[field]!r}.", request[field], invoice[field], source))
        if "status" in invoice and invoice["status"] != "draft":
            findings.append(_finding(
                "status-not-draft", "/invoice/status",
                f"A new invoice has status {invoice['status']!r}, not 'draft'.", "draft",
                invoice["status"], source))
    if isinstance(estimate, Mapping):
        if "_id" in estimate and estimate["_id"] != estimate_id:
            findings.append(_finding(
                "estimate-mismatch", "/estimate/_id",
                f"The estimate returned is {estimate['_id']!r}, not the requested {estimate_id!r}.",
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
