"""The sentences a failing contract test prints: the request, the answer, each finding's pointer."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from ghl_contract.findings import Finding
from ghl_contract.suite.generation import GeneratedCase
from ghl_contract.transport import Exchange


def _request_line(exchange: Exchange) -> str:
    answered = (f"answered {exchange.status}" if exchange.status is not None
                else "got no answer")
    return f"{exchange.method} {urlsplit(exchange.url).path} {answered}"


def _finding_line(finding: Finding, strict: bool) -> str:
    where = finding.pointer or "(whole answer)"
    note = "" if finding.breaking else " (non-breaking; fails under --strict-drift)"
    if finding.breaking or strict:
        trace = f" [traceId {finding.trace_id}]" if finding.trace_id else ""
        return f"  {where}  {finding.rule}{note}: {finding.message}{trace}"
    return ""


def exchange_failure(exchange: Exchange, findings: Sequence[Finding], *, strict: bool,
                     what: str | None = None) -> str:
    """`POST /things/T answered 200; the contract is broken:` + one line per finding."""
    head = f"{what}: " if what else ""
    lines = [f"{head}{_request_line(exchange)}; the contract is broken:"]
    lines.extend(line for f in findings if (line := _finding_line(f, strict)))
    return "\n".join(lines)


def case_failure(case: GeneratedCase, position: int, planned: int, exchange: Exchange,
                 findings: Sequence[Finding], *, strict: bool) -> str:
    """A generated case that broke the contract: which one, the request, then its findings."""
    lines = [
        f"Generated case {position} of {planned} broke the contract (no further case was sent).",
        f"  request: {case.label()}",
        exchange_failure(exchange, findings, strict=strict),
    ]
    return "\n".join(lines)


def shape_failure(findings: Sequence[Finding], base: str, other: str, *, strict: bool) -> str:
    """Where the answer with Version `other` differs in shape from the one with `base`."""
    lines = [f"The answer with Version {other} differs in shape from the answer with Version "
             f"{base}:"]
    lines.extend(line for f in findings if (line := _finding_line(f, strict)))
    return "\n".join(lines)
