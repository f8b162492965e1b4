"""Named, reproducible ways for the mock to break the contract: body drifts and answer faults.

A drift profile changes one place of a response (its body, or for one profile its rate-limit
headers); each names the rule the contract suite must report and the JSON pointer where it must
report it ("" for the whole answer). A fault profile breaks the answer itself (its
timing, status, framing or content type); the app carries those out (see `app.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from ghl_contract.money import invoice_total
from ghl_contract.rules import RULES

Body = Any


def _copy(body: Body) -> Any:
    # A drift is pure: it works on its own copy and never touches the caller's body.
    return orjson.loads(orjson.dumps(body))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class DriftProfile:
    """A deterministic change to the responses of one status, and where the suite must see it."""

    name: str
    description: str
    rule: str  # a code of ghl_contract.rules
    pointer: str  # where in the body the finding must be reported ("": the whole answer)
    change: Callable[[Any], None] | None  # edits a private copy of the body in place
    status: int = 200  # which responses it changes
    drops_rate_limit_headers: bool = False  # the responses it changes lack X-RateLimit-*

    def apply(self, body: Body) -> Body:
        """The drifted copy of `body`; `body` itself is left as it was."""
        drifted = _copy(body)
        if self.change is not None:
            self.change(drifted)
        return drifted


@dataclass(frozen=True)
class FaultProfile:
    """A way the answer itself fails, and the rule the suite must report for it."""

    name: str
    description: str
    rule: str
    processes: bool  # whether the request is still carried out (an invoice may be created)


def _set(path: str, value: Callable[[Any], Any]) -> Callable[[Any], None]:
    parent, _, key = path.rpartition("/")

    def change(body: Any) -> None:
        target = body
        for part in parent.split("/")[1:]:
            target = target[part]
        target[key] = value(target.get(key))

    return change


def _remove(path: str) -> Callable[[Any], None]:
    parent, _, key = path.rpartition("/")

    def change(body: Any) -> None:
        target = body
        for part in parent.split("/")[1:]:
            target = target[part]
        target.pop(key, None)

    return change


def _wrong_total(body: Any) -> None:
    # amountDue moves with the total so that only the total's invariant breaks.
    invoice = body["invoice"]
    invoice["total"] = _number(Decimal(str(invoice["total"])) + 10)
    invoice["amountDue"] = _number(Decimal(str(invoice["amountDue"])) + 10)


def _other_currency(body: Any) -> None:
    invoice = body["invoice"]
    invoice["currency"] = "EUR" if body["estimate"]["currency"] != "EUR" else "USD"


def _drop_item(body: Any) -> None:
    # The total and amountDue follow the remaining items, so only the items' invariant breaks.
    invoice = body["invoice"]
    items = invoice["invoiceItems"]
    if items:
        items.pop()
        total = _number(invoice_total(items, invoice.get("discount")))
        invoice["total"] = invoice["amountDue"] = total


def _other_estimate(value: str) -> str:
    # Another id of the same shape: the last character changed.
    return value[:-1] + ("0" if value[-1:] != "0" else "1")


def _items_object(body: Any) -> None:
    invoice = body["invoice"]
    invoice["invoiceItems"] = {str(i): item for i, item in enumerate(invoice["invoiceItems"])}


def _message_string(body: Any) -> None:
    message = body.get("message")
    body["message"] = "; ".join(message) if isinstance(message, list) else str(message)


_DRIFTS = (
    DriftProfile("removed-required", "invoice.invoiceNumber is left out.",
                 "missing-required", "/invoice/invoiceNumber", _remove("/invoice/invoiceNumber")),
    DriftProfile("changed-type", "invoice.amountDue is sent as a string (\"509.99\").",
                 "type-changed", "/invoice/amountDue", _set("/invoice/amountDue", str)),
    DriftProfile("null-value", "invoice.currency is null.",
                 "null-not-allowed", "/invoice/currency",
                 _set("/invoice/currency", lambda _: None)),
    DriftProfile("added-field", "invoice gains an undocumented paymentLink (non-breaking).",
                 "property-added", "/invoice/paymentLink",
                 _set("/invoice/paymentLink", lambda _: "https://mock.invalid/pay/1")),
    DriftProfile("new-enum-value", "invoice.status is \"pending\", outside the documented values.",
                 "enum-value-unknown", "/invoice/status",
                 _set("/invoice/status", lambda _: "pending")),
    DriftProfile("date-format", "invoice.issueDate is a date-time, not a date.",
                 "format-changed", "/invoice/issueDate",
                 _set("/invoice/issueDate", lambda value: f"{value}T00:00:00.000Z")),
    DriftProfile("items-object",
                 "invoice.invoiceItems is an object keyed by position, not an array.",
                 "type-changed", "/invoice/invoiceItems", _items_object),
    DriftProfile("wrong-amount-due", "invoice.amountDue is one more than total - amountPaid.",
                 "amount-due-mismatch", "/invoice/amountDue",
                 _set("/invoice/amountDue", lambda value: _number(Decimal(str(value)) + 1))),
    DriftProfile("wrong-total", "invoice.total (and amountDue with it) is 10 more than its items.",
                 "total-mismatch", "/invoice/total", _wrong_total),
    DriftProfile("wrong-currency", "invoice.currency differs from the estimate's.",
                 "currency-mismatch", "/invoice/currency", _other_currency),
    DriftProfile("alt-id-not-echoed", "invoice.altId is not the request's altId.",
                 "alt-id-mismatch", "/invoice/altId",
                 _set("/invoice/altId", lambda _: "drifted-location-id")),
    DriftProfile("status-not-draft", "invoice.status is \"sent\" (documented, but not draft).",
                 "status-not-draft", "/invoice/status", _set("/invoice/status", lambda _: "sent")),
    DriftProfile("item-dropped", "invoice.invoiceItems lacks the estimate's last item.",
                 "items-mismatch", "/invoice/invoiceItems", _drop_item),
    DriftProfile("other-estimate", "estimate._id is not the requested estimate's id.",
                 "estimate-mismatch", "/estimate/_id", _set("/estimate/_id", _other_estimate)),
    # The contract allows only "location" in the request and the invoice alike, so an altType
    # that differs from the request's is first a value outside the enum: the schema's finding
    # names it, and the alt-type-mismatch test fails on it (a breaking finding at what it reads).
    DriftProfile("alt-type-not-echoed",
                 "invoice.altType is \"company\", not the request's \"location\".",
                 "enum-value-unknown", "/invoice/altType",
                 _set("/invoice/altType", lambda _: "company")),
    # Seen only across conversions: the second invoice of the run repeats the first's number.
    DriftProfile("number-reused",
                 "invoice.invoiceNumber is \"19\" (the documented one) on every invoice.",
                 "invoice-number-reused", "/invoice/invoiceNumber",
                 _set("/invoice/invoiceNumber", lambda _: "19")),
    DriftProfile("rate-limit-headers-dropped",
                 "200 answers lack the X-RateLimit-* headers (non-breaking).",
                 "rate-limit-headers-missing", "", None, drops_rate_limit_headers=True),
    DriftProfile("error-message-string", "A 422 body's message is one string, not a list.",
                 "type-changed", "/message", _message_string, status=422),
)

_FAULTS = (
    FaultProfile("slow", "Answers only after the fault delay (15 s by default).", "timeout", True),
    FaultProfile("server-error", "Answers 500 with a JSON error body.", "server-error", False),
    FaultProfile("reset", "Announces the whole body, sends part of it, then drops the connection.",
                 "connection-error", True),
    FaultProfile("truncated-json", "Sends the first half of the JSON body.", "truncated-json",
                 True),
    FaultProfile("html", "Answers 200 with an HTML error page (text/html).", "not-json", False),
    FaultProfile("wrong-content-type", "Sends the JSON body as text/plain.",
                 "wrong-content-type", True),
    FaultProfile("empty-body", "Sends the status with an empty body.", "empty-body", True),
)

DRIFT_PROFILES: dict[str, DriftProfile] = {profile.name: profile for profile in _DRIFTS}
FAULT_PROFILES: dict[str, FaultProfile] = {profile.name: profile for profile in _FAULTS}

# A profile naming a rule the product does not know would be a silent typo: fail at import.
for _profile in (*_DRIFTS, *_FAULTS):
    if _profile.rule not in RULES:
        raise RuntimeError(f"Profile {_profile.name!r} names the unknown rule {_profile.rule!r}.")
