"""The one place a contract run judges an exchange: faults, status, body, invariants, headers.

Every response the suite sees goes through `Examiner.examine`: the transport's faults first (a body
that is not JSON cannot be checked further), then the status against what the test expects, then
the body through the drift checker (`check_payload`: a 2xx body as the 200 response, any other as
the error body of its status), the exchange invariants for a 2xx answer to a JSON request, the
invoice numbers of the run and HighLevel's rate-limit headers. Nothing here formats a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ghl_contract.checker import check_payload, without_moot
from ghl_contract.findings import Finding, show
from ghl_contract.invariants import exchange_findings
from ghl_contract.rules import severity
from ghl_contract.transport import Exchange

# HighLevel's rate-limit headers (lower case, as the transport keeps response headers).
RATE_LIMIT_HEADERS = (
    "x-ratelimit-limit-daily",
    "x-ratelimit-daily-remaining",
    "x-ratelimit-interval-milliseconds",
    "x-ratelimit-max",
    "x-ratelimit-remaining",
)


@dataclass(frozen=True)
class Expect:
    """The statuses the contract documents for one kind of request."""

    statuses: frozenset[int]
    label: str

    def __contains__(self, status: object) -> bool:
        return status in self.statuses


SUCCESS = Expect(frozenset({200}), "200")
REJECTED = Expect(frozenset({400, 422}), "400 or 422")
UNAUTHORIZED = Expect(frozenset({401}), "401")
FORBIDDEN = Expect(frozenset({403}), "403")
NOT_FOUND = Expect(frozenset({404}), "404")
CLIENT_ERROR = Expect(frozenset(range(400, 500)) - {429}, "a 4xx other than 429")


def expect(statuses: Iterable[int]) -> Expect:
    """An expectation from a list of statuses (as the suite's data files give them)."""
    chosen = sorted(set(statuses))
    label = " or ".join(str(s) for s in chosen) if len(chosen) < 3 else \
        ", ".join(str(s) for s in chosen[:-1]) + f" or {chosen[-1]}"
    return Expect(frozenset(chosen), label)


def _finding(rule: str, pointer: str, message: str, expected: Any, actual: Any) -> Finding:
    return Finding(pointer, rule, severity(rule), message, expected, actual)


class Examiner:
    """Judges exchanges; remembers the invoice numbers of the run to catch a reused one."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], str] = {}  # (location, number) -> first invoice id

    def examine(self, exchange: Exchange, expected: Expect, *, request: Any,
                estimate_id: str, source: str) -> list[Finding]:
        """Every finding for one exchange, stamped with `source`, its status and traceId."""
        found = list(exchange.faults)
        if all(f.rule == "wrong-content-type" for f in found):
            # JSON under another Content-Type is still JSON: its body is judged too, as
            # `ghl-contract check` judges the same recorded answer.
            found += self._answer(exchange, expected, request, estimate_id)
        if exchange.write and exchange.status is not None and 200 <= exchange.status < 300:
            found.extend(rate_limit_findings(exchange.response_headers))
        return [replace(f, source=f.source or source,
                        status=f.status if f.status is not None else exchange.status,
                        trace_id=f.trace_id or exchange.trace_id) for f in found]

    def _answer(self, exchange: Exchange, expected: Expect, request: Any,
                estimate_id: str) -> list[Finding]:
        status = exchange.status or 0
        found: list[Finding] = []
        if status not in expected:
            found.append(_finding(
                "unexpected-status", "",
                f"The server answered {status} where the contract documents {expected.label}.",
                sorted(expected.statuses), status))
        payload = exchange.json()
        if 200 <= status < 300:
            schema = check_payload(payload, "response")
            found.extend(schema)
            if isinstance(request, Mapping):
                found.extend(without_moot(exchange_findings(request, estimate_id, payload),
                                          schema))
            found.extend(self._number_findings(payload, request))
        else:
            found.extend(check_payload(payload, "error", status=status))
        return found

    def _number_findings(self, payload: Any, request: Any) -> list[Finding]:
        invoice = payload.get("invoice") if isinstance(payload, Mapping) else None
        if not isinstance(invoice, Mapping):
            return []
        number, invoice_id = invoice.get("invoiceNumber"), invoice.get("_id")
        location = invoice.get("altId")
        if not isinstance(location, str) and isinstance(request, Mapping):
            location = request.get("altId")
        if not isinstance(number, str | int) or isinstance(number, bool):
            return []  # absent or mistyped: the schema's finding
        key = (str(location), str(number))
        first = self._numbers.setdefault(key, str(invoice_id))
        if first == str(invoice_id):
            return []
        return [_finding(
            "invoice-number-reused", "/invoice/invoiceNumber",
            f"Invoice number {show(number)} was given to invoice {show(invoice_id)} after "
            f"invoice {show(first)} of the same location.", "a new number", number)]


def rate_limit_findings(headers: Mapping[str, str]) -> list[Finding]:
    """One non-breaking finding naming HighLevel's X-RateLimit-* headers a response lacks."""
    missing = [name for name in RATE_LIMIT_HEADERS if name not in headers]
    if not missing:
        return []
    shown = ", ".join(_display(name) for name in missing)
    return [_finding("rate-limit-headers-missing", "",
                     f"The response lacks the rate-limit header(s) {shown}.",
                     [_display(n) for n in RATE_LIMIT_HEADERS], [_display(n) for n in missing])]


def _display(name: str) -> str:
    return "-".join("X" if part == "x" else part.capitalize().replace("Ratelimit", "RateLimit")
                    for part in name.split("-"))
