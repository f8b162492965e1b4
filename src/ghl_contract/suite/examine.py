"""How a contract run judges an exchange: the transport's faults, then the one judge, then the run's
own memory (an invoice number given twice).

Every response the suite sees goes through `Examiner.examine`: an exchange the transport could not
complete (no answer, cut short, still 429) is its fault and nothing more; any other answer is
judged by `ghl_contract.judge` exactly as `check` and the proxy judge it, against the statuses the
test expects. Nothing here formats a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ghl_contract.findings import Finding
from ghl_contract.judge import Expect, check_body, expect
from ghl_contract.number_memory import NumberMemory
from ghl_contract.operations import Operation
from ghl_contract.transport import Exchange

__all__ = ["CLIENT_ERROR", "FORBIDDEN", "NOT_FOUND", "REJECTED", "SUCCESS", "UNAUTHORIZED",
           "Examiner", "Expect", "expect"]

SUCCESS = Expect(frozenset({200}), "200")
REJECTED = Expect(frozenset({400, 422}), "400 or 422")
UNAUTHORIZED = Expect(frozenset({401}), "401")
FORBIDDEN = Expect(frozenset({403}), "403")
NOT_FOUND = Expect(frozenset({404}), "404")
CLIENT_ERROR = Expect(frozenset(range(400, 500)) - {429}, "a 4xx other than 429")


class Examiner:
    """Judges exchanges; remembers the invoice numbers of the run to catch a reused one."""

    def __init__(self) -> None:
        self._numbers = NumberMemory()

    def examine(self, exchange: Exchange, expected: Expect, *, operation: Operation,
                request: Any, path: Mapping[str, str], source: str) -> list[Finding]:
        """Every finding for one exchange, stamped with `source`, its operation and status."""
        if exchange.faults:
            return [replace(f, source=source, operation=operation.id,
                            status=f.status if f.status is not None else exchange.status,
                            trace_id=f.trace_id or exchange.trace_id) for f in exchange.faults]
        assert exchange.status is not None  # an exchange without an answer carries its fault
        found = check_body(exchange.response_body, operation=operation, status=exchange.status,
                           content_type=exchange.response_headers.get("content-type", ""),
                           headers=exchange.response_headers, request=request, path=path,
                           expect=expected, source=source)
        if 200 <= exchange.status < 300:
            found.extend(replace(f, source=source, operation=operation.id, status=exchange.status)
                         for f in self._number_findings(exchange, operation, request))
        return found

    def _number_findings(self, exchange: Exchange, operation: Operation,
                         request: Any) -> list[Finding]:
        """An invoice number the run has seen on another invoice of the same location."""
        if operation.creates is None:
            return []
        try:
            payload = exchange.json()
        except ValueError:
            return []
        return self._numbers.findings(operation, payload, request)
