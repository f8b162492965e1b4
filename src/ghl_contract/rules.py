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
    Rule("body-too-large", B, "The body, as it travelled or decoded, passed the size the client reads."),
    Rule("rate-limit-headers-missing", N, "A response lacks HighLevel's X-RateLimit-* headers."),
    # Two answers to the same request, with the run's Version and --compare-version.
    Rule("version-field-removed", B, "With the compared Version, an answer lacks a field the run's Version sends."),
    Rule("version-field-added", N, "With the compared Version, an answer has a field the run's Version does not send."),
    Rule("version-type-changed", B, "With the compared Version, a field has another JSON type."),
    # Contract-to-contract diff (specdiff, `ghl-contract diff`): a change between an old and a new
    # contract, judged from the side of a client that sends requests and reads responses. A
    # response may promise less variety without breaking anyone; it breaks clients when it may
    # carry more. Requests mirror it: accepting more breaks no one, accepting less breaks the
    # clients that send what is no longer accepted. Where oasdiff (the best-known such checker)
    # judges otherwise, the reason says why. Schemas are compared resolved: a `$ref` by the shape
    # it points to, never by the component's name; an allOf merged into its holder, so a branch
    # added or removed is reported as the keywords it brings (oasdiff reports the branch itself).
    # -- the operation
    Rule("operation-added", N, "The contract documents an operation it did not before: no client calls it yet."),
    Rule("operation-id-changed", N, "An operation's operationId changed: requests are the same; code generated from the document names its method anew (oasdiff: info)."),
    Rule("operation-removed", B, "An operation is no longer documented (oasdiff: api-removed-without-deprecation): a client calling it gets an error."),
    # -- parameters (`/parameters/{in}/{name}`); their schemas follow the request-* body rules
    Rule("request-parameter-added", N, "A new optional parameter: clients that do not send it are still served."),
    Rule("request-parameter-removed", N, "A parameter is no longer documented: a client that still sends it is not refused, since a server ignores what it does not read (oasdiff warns)."),
    Rule("request-parameter-required-added", B, "A parameter is new and required, or now required: a client that does not send it is refused."),
    Rule("request-parameter-required-removed", N, "A parameter is no longer required: clients that send it are still served."),
    # -- security (`/security/{scheme}`): which credentials a client may send, with which scopes
    Rule("request-security-added", N, "A new way to authenticate: the ways clients use today still work."),
    Rule("request-security-removed", B, "A way to authenticate is gone (no credentials at all, too): a client using it is refused."),
    Rule("request-security-scope-added", B, "A scheme needs a new scope: a client whose token lacks it is refused."),
    Rule("request-security-scope-removed", N, "A scheme needs one scope fewer: every token that worked still works."),
    # -- the request body
    Rule("request-body-added", B, "The operation now requires a request body: a client that sends none is refused."),
    Rule("request-body-added-optional", N, "The operation documents an optional request body: a client that sends none is still served."),
    Rule("request-body-removed", N, "The operation no longer documents a request body: the server ignores a body it does not read, so a client sending the old one is not refused for it (oasdiff reports it as an error)."),
    Rule("request-body-required-added", B, "The request body is now required: a client that sends none is refused."),
    Rule("request-body-required-removed", N, "The request body is now optional."),
    Rule("request-required-added", B, "A request field is newly required (or new and required): a client that omits it is refused."),
    Rule("request-required-removed", N, "A request field is no longer required."),
    Rule("request-property-added", N, "A new optional request field: clients that do not send it are still served."),
    Rule("request-property-removed", N, "A request field is no longer declared, and undeclared fields are still accepted: a client that still sends it is not refused (oasdiff warns)."),
    Rule("request-property-rejected", B, "A request field is no longer declared and the new contract rejects undeclared fields: a client that still sends it is refused."),
    Rule("request-additional-properties-closed", B, "A request object now rejects undeclared fields: a client sending one is refused."),
    Rule("request-additional-properties-opened", N, "A request object now accepts undeclared fields."),
    Rule("request-type-narrowed", B, "A request value accepts fewer JSON types (number to integer too): a value sent today may be refused."),
    Rule("request-type-widened", N, "A request value accepts more JSON types (integer to number too): all that is sent today is still accepted."),
    Rule("request-type-changed", B, "A request value has another JSON type (string to number, array to object): what clients send today is refused."),
    Rule("request-nullable-added", N, "A request value now accepts null."),
    Rule("request-nullable-removed", B, "A request value no longer accepts null: a client sending null is refused."),
    Rule("request-enum-value-added", N, "A request value accepts one more value of its list."),
    Rule("request-enum-value-removed", B, "A request value no longer accepts a value of its list: a client sending it is refused (a Version header losing the value clients send breaks every call)."),
    Rule("request-enum-added", B, "A request value is now limited to a list of values: others sent today are refused."),
    Rule("request-enum-removed", N, "A request value is no longer limited to a list of values."),
    Rule("request-const-added", B, "A request value must now be one constant: other values sent today are refused."),
    Rule("request-const-removed", N, "A request value is no longer held to a constant."),
    Rule("request-const-changed", B, "A request value must be another constant: the old one is refused."),
    Rule("request-format-added", B, "A request string must now follow a format (date, email...): free text sent today may be refused."),
    Rule("request-format-removed", N, "A request string no longer has to follow a format."),
    Rule("request-format-changed", B, "A request string must follow another format: a value in the old one may be refused."),
    Rule("request-pattern-added", B, "A request string must now match a pattern: a value sent today may be refused."),
    Rule("request-pattern-removed", N, "A request string no longer has to match a pattern (or now matches `.*`)."),
    Rule("request-pattern-changed", B, "A request string must match another pattern: two patterns are rarely comparable, so a value sent today may be refused (oasdiff warns)."),
    Rule("request-range-narrowed", B, "A request number admits fewer values (minimum, maximum, their exclusive forms, multipleOf): a value sent today may be refused."),
    Rule("request-range-widened", N, "A request number admits more values (a bound relaxed or removed)."),
    Rule("request-range-changed", B, "A request number must be a multiple of another number, neither a multiple of the other: values sent today may be refused."),
    Rule("request-length-narrowed", B, "A request string's length bounds admit fewer lengths (minLength up, maxLength down or new): a value sent today may be refused."),
    Rule("request-length-widened", N, "A request string's length bounds admit more lengths."),
    Rule("request-items-narrowed", B, "A request array admits fewer item counts (minItems, maxItems) or must now hold unique items: an array sent today may be refused."),
    Rule("request-items-widened", N, "A request array admits more item counts, or repeated items."),
    Rule("request-property-count-narrowed", B, "A request object admits fewer property counts (minProperties, maxProperties)."),
    Rule("request-property-count-widened", N, "A request object admits more property counts."),
    Rule("request-branch-added", N, "A request oneOf/anyOf accepts one more shape (branches are matched by shape, not by $ref name)."),
    Rule("request-branch-removed", B, "A request oneOf/anyOf no longer accepts one of its shapes: a client sending it is refused."),
    Rule("request-constraint-added", B, "A request schema gained a constraint that has no rule of its own (oneOf/anyOf where there was none, not, if/then/else, contains, dependentRequired, patternProperties, propertyNames, prefixItems, unevaluated*): what is sent today may be refused."),
    Rule("request-constraint-removed", N, "A request schema lost such a constraint: it accepts more."),
    Rule("request-constraint-changed", B, "A request schema's constraint of that kind changed: the two cannot be compared, so what is sent today may be refused."),
    # -- responses: statuses and bodies (error bodies are responses too)
    Rule("response-status-added", N, "The operation documents a response status it did not before (a client meets it already, documented or not)."),
    Rule("response-success-removed", B, "A documented success (2xx) response is gone: a client that waits for it gets another."),
    Rule("response-error-removed", N, "A documented error response is gone: a client that handles it loses nothing (oasdiff agrees)."),
    Rule("response-body-added", N, "A documented response now has a JSON body: a client that ignored the body still can."),
    Rule("response-body-removed", B, "A documented response no longer has a JSON body: a client that reads it gets nothing to read."),
    Rule("response-required-added", N, "A response field is now always present."),
    Rule("response-required-removed", B, "A response field is no longer required: a client that reads it may find it absent."),
    Rule("response-property-added", N, "A new response field: clients ignore fields they do not read (the tolerant-reader rule, as oasdiff)."),
    Rule("response-property-removed", B, "A response field is no longer declared: a client that reads it may get nothing, or a value nothing describes (oasdiff reports an optional one as info; a client that shows or stores it still loses it)."),
    Rule("response-additional-properties-closed", N, "A response object no longer carries undeclared fields."),
    Rule("response-additional-properties-opened", N, "A response object may carry undeclared fields: clients ignore fields they do not read, the same reason a new field breaks no one (by design, though it admits more)."),
    Rule("response-type-narrowed", N, "A response value has fewer JSON types (number to integer too): whatever comes is a value clients already read (oasdiff agrees)."),
    Rule("response-type-widened", B, "A response value may carry more JSON types (integer to number too): a client reading an integer may meet 1.5."),
    Rule("response-type-changed", B, "A response value has another JSON type (string to number, array to object): clients read it wrong."),
    Rule("response-nullable-added", B, "A response value may now be null: a client that reads it as before fails on null."),
    Rule("response-nullable-removed", N, "A response value is no longer null: clients that handled null still work."),
    Rule("response-enum-value-added", B, "A response value may carry a value its list did not have: a client that switches on the value meets a case it lacks (oasdiff warns)."),
    Rule("response-enum-value-removed", N, "A response value no longer carries one value of its list."),
    Rule("response-enum-added", N, "A response value is now limited to a list of values."),
    Rule("response-enum-removed", B, "A response value is no longer limited to its list: it may carry values clients do not know."),
    Rule("response-const-added", N, "A response value is now one constant."),
    Rule("response-const-removed", B, "A response value is no longer one constant: clients may meet others."),
    Rule("response-const-changed", B, "A response value is another constant: clients expecting the old one meet the new."),
    Rule("response-format-added", N, "A response string now follows a format: it is still a string clients read."),
    Rule("response-format-removed", B, "A response string no longer promises its format: a client parsing a date may meet free text (oasdiff: type generalized)."),
    Rule("response-format-changed", B, "A response string follows another format: a client parsing the old one may fail."),
    Rule("response-pattern-added", N, "A response string now matches a pattern (oasdiff agrees)."),
    Rule("response-pattern-removed", B, "A response string no longer promises its pattern (or now matches `.*`): clients that rely on it may fail."),
    Rule("response-pattern-changed", B, "A response string matches another pattern: clients that rely on the old one may fail (oasdiff warns)."),
    Rule("response-range-narrowed", N, "A response number has fewer possible values (minimum, maximum, their exclusive forms, multipleOf)."),
    Rule("response-range-widened", B, "A response number may take values it could not before (a bound relaxed or removed): a client's range checks or storage may fail."),
    Rule("response-range-changed", B, "A response number is a multiple of another number, neither a multiple of the other."),
    Rule("response-length-narrowed", N, "A response string has fewer possible lengths."),
    Rule("response-length-widened", B, "A response string may be longer (or shorter) than before: a client's column or buffer may not hold it."),
    Rule("response-items-narrowed", N, "A response array has fewer possible item counts, or unique items."),
    Rule("response-items-widened", B, "A response array may hold more (or fewer) items than before, or repeated ones."),
    Rule("response-property-count-narrowed", N, "A response object has fewer possible property counts."),
    Rule("response-property-count-widened", B, "A response object may hold more (or fewer) properties than before."),
    Rule("response-branch-added", B, "A response oneOf/anyOf may carry one more shape: clients do not know how to read it (branches are matched by shape, not by $ref name)."),
    Rule("response-branch-removed", N, "A response oneOf/anyOf no longer carries one of its shapes."),
    Rule("response-constraint-added", N, "A response schema gained a constraint that has no rule of its own (see request-constraint-added): it promises less variety."),
    Rule("response-constraint-removed", B, "A response schema lost such a constraint: it may carry more than clients expect."),
    Rule("response-constraint-changed", B, "A response schema's constraint of that kind changed: the two cannot be compared."),
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
