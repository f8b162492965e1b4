"""Every rule code the product reports, with its severity and what it means: one table."""

from __future__ import annotations

from dataclasses import dataclass

from ghl_contract.findings import Severity

B, N = Severity.BREAKING, Severity.NON_BREAKING


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    meaning: str


_RULES = [
    # A payload against the contract's schemas.
    Rule("missing-required", B, "A field the contract requires is absent."),
    Rule("type-changed", B, "A value has another JSON type than the contract's (array<->object too)."),
    Rule("null-not-allowed", B, "A value is null where the contract allows no null."),
    Rule("enum-value-unknown", B, "A value is outside the documented set of values."),
    Rule("format-changed", B, "A string no longer has the documented format (date, date-time...)."),
    Rule("constraint-violated", B, "A value breaks another documented constraint (length, range...)."),
    Rule("property-added", N, "A field the contract does not document is present (additive)."),
    # Invariants that need only the response payload.
    Rule("amount-due-mismatch", B, "invoice.amountDue is not invoice.total - invoice.amountPaid."),
    Rule("total-mismatch", B, "invoice.total does not follow from its items, taxes and discount."),
    Rule("currency-mismatch", B, "The invoice's currency is not the estimate's."),
    # Invariants of an exchange: the request sent and the response received.
    Rule("alt-id-mismatch", B, "The invoice's altId is not the request's."),
    Rule("alt-type-mismatch", B, "The invoice's altType is not the request's."),
    Rule("items-mismatch", B, "The invoice's items are not the estimate's (count, name, qty, amount)."),
    Rule("status-not-draft", B, "A new invoice's status is not draft."),
    Rule("estimate-mismatch", B, "The estimate returned is not the one requested."),
    Rule("invoice-number-reused", B, "Two invoices created in one run carry the same number."),
    # What a response can do wrong besides its body's shape.
    Rule("unexpected-status", B, "The status code is not the one the contract documents here."),
    Rule("server-error", B, "The server answered 5xx."),
    Rule("not-json", B, "The body is not JSON (an HTML page, plain text)."),
    Rule("truncated-json", B, "The body is JSON cut short."),
    Rule("wrong-content-type", B, "The Content-Type is not application/json."),
    Rule("empty-body", B, "The body is empty where the contract documents one."),
    Rule("timeout", B, "No answer within the request timeout."),
    Rule("connection-error", B, "The connection was refused, reset or closed mid-answer."),
    Rule("outcome-unknown", B, "A write timed out after it was sent; it may have created an invoice."),
    Rule("rate-limited", B, "Still 429 after the bounded retries."),
    Rule("rate-limit-headers-missing", N, "A response lacks HighLevel's X-RateLimit-* headers."),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def severity(code: str) -> Severity:
    return RULES[code].severity
