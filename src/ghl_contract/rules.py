"""Every rule code the product reports, with its severity and what it means: one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ghl_contract.findings import Finding, Severity

B, N = Severity.BREAKING, Severity.NON_BREAKING

# ruff: noqa: E501  (one rule per line reads best as a table)


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
    Rule("nesting-too-deep", B, "A payload that breaks the contract nests arrays or objects past the depth the checker walks."),
    # Invariants that need only the response payload.
    Rule("amount-due-mismatch", B, "invoice.amountDue is not invoice.total - invoice.amountPaid."),
    Rule("total-mismatch", B, "invoice.total does not follow from its items, taxes and discount."),
    Rule("currency-mismatch", B, "The invoice's currency is not the estimate's."),
    Rule("location-mismatch", B, "The invoice's location (altId) is not its estimate's."),
    # Invariants of an exchange: the request sent and the response received.
    Rule("alt-id-mismatch", B, "The invoice's altId is not the request's."),
    Rule("alt-type-mismatch", B, "The invoice's altType is not the request's."),
    Rule("items-mismatch", B, "The invoice's items are not the estimate's (count, name, qty, amount)."),
    Rule("discount-mismatch", B, "The invoice's discount is not its estimate's."),
    Rule("estimate-not-invoiced", B, "An estimate converted with markAsInvoiced is not invoiced."),
    Rule("read-back-mismatch", B, "An object read back differs from what the request that made it answered."),
    Rule("created-mismatch", B, "What a request created differs from what was sent to create it."),
    Rule("status-not-draft", B, "A new invoice's status is not draft."),
    Rule("estimate-mismatch", B, "The estimate returned is not the one requested."),
    Rule("invoice-mismatch", B, "The invoice returned is not the one requested."),
    Rule("invoice-number-reused", B, "Two invoices created in one run carry the same number."),
    Rule("estimate-number-reused", B, "Two estimates created in one run carry the same number."),
    # What a response can do wrong besides its body's shape.
    Rule("unexpected-status", B, "The status code is not the one the contract documents here."),
    Rule("other-refusal", N, "A request meant to be refused was refused with another 4xx than the one that fits it (schemas/decisions/statuses.json)."),
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
    # Two answers to the same request, with the run's Version and --compare-version.
    Rule("version-field-removed", B, "With the compared Version, an answer lacks a field the run's Version sends."),
    Rule("version-field-added", N, "With the compared Version, an answer has a field the run's Version does not send."),
    Rule("version-type-changed", B, "With the compared Version, a field has another JSON type."),
    # Contract-to-contract diff (specdiff, `ghl-contract diff`): a change between an old and a new
    # contract, judged from the consumer's side. Request: what a client sends; response: what it
    # reads. Error bodies are responses.
    Rule("request-body-added", B, "The operation now documents a request body it did not before."),
    Rule("request-body-removed", N, "The operation no longer documents a request body."),
    Rule("request-required-added", B, "A request field is newly required (or new and required)."),
    Rule("request-required-removed", N, "A request field is no longer required."),
    Rule("request-property-added", N, "A new optional request field."),
    Rule("request-property-removed", N,
         "A request field is no longer declared; undeclared fields are still accepted."),
    Rule("request-property-rejected", B,
         "A request field is no longer declared and the new contract rejects undeclared fields."),
    Rule("request-enum-value-added", N, "A request field accepts a new value."),
    Rule("request-enum-value-removed", B, "A request field no longer accepts a value."),
    Rule("request-type-narrowed", B, "A request field accepts fewer JSON types."),
    Rule("request-type-widened", N, "A request field accepts more JSON types."),
    Rule("request-type-changed", B, "A request field has another JSON type (array<->object too)."),
    Rule("request-format-changed", B, "A request field has a new or another format."),
    Rule("request-format-removed", N, "A request field no longer has a format."),
    Rule("request-additional-properties-closed", B,
         "A request object now rejects undeclared fields."),
    Rule("request-additional-properties-opened", N,
         "A request object now accepts undeclared fields."),
    Rule("request-constraint-tightened", B,
         "A request constraint was added or tightened (enum, bounds, lengths, alternatives)."),
    Rule("request-constraint-relaxed", N, "A request constraint was removed or relaxed."),
    Rule("request-constraint-changed", B,
         "A request constraint changed (pattern, const, if/then)."),
    Rule("response-status-added", N,
         "The operation documents a response status it did not before."),
    Rule("response-success-removed", B, "A documented success (2xx) response is gone."),
    Rule("response-error-removed", N, "A documented error response is gone."),
    Rule("response-property-removed", B, "A response field is no longer declared."),
    Rule("response-property-added", N, "A new response field."),
    Rule("response-required-removed", B,
         "A response field is no longer required: it may be absent."),
    Rule("response-required-added", N, "A response field is now always present."),
    Rule("response-enum-value-added", B, "A response field may carry a new value."),
    Rule("response-enum-value-removed", N, "A response field no longer carries a value."),
    Rule("response-type-narrowed", B, "A response field has fewer JSON types."),
    Rule("response-type-widened", B,
         "A response field may carry more JSON types (null, for one): a client that reads it "
         "as before can fail, as with a new enum value."),
    Rule("response-type-changed", B,
         "A response field has another JSON type (array<->object too)."),
    Rule("response-format-changed", B, "A response field has a new or another format."),
    Rule("response-format-removed", N, "A response field no longer has a format."),
    Rule("response-additional-properties-closed", N,
         "A response object no longer carries undeclared fields."),
    Rule("response-additional-properties-opened", N,
         "A response object may carry undeclared fields (tolerated)."),
    Rule("response-constraint-tightened", B,
         "A response constraint was added or tightened (enum, bounds, lengths, alternatives)."),
    Rule("response-constraint-relaxed", N, "A response constraint was removed or relaxed."),
    Rule("response-constraint-changed", B,
         "A response constraint changed (pattern, const, if/then)."),
    # The vendor-documentation lint (`ghl-contract lint-vendor`).
    Rule("vendor-contradiction", N,
         "The vendor schema contradicts an example; a recorded decision covers it."),
    Rule("vendor-contradiction-unrecorded", B,
         "The vendor schema contradicts an example and no recorded decision covers it."),
    Rule("vendor-divergence", N, "The vendor schema differs from the pinned contract here."),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def severity(code: str) -> Severity:
    return RULES[code].severity


def finding(rule: str, pointer: str, message: str, expected: Any = None,
            actual: Any = None) -> Finding:
    """The one way a check makes a finding: its severity is the rule's, from the table."""
    return Finding(pointer, rule, RULES[rule].severity, message, expected, actual)
