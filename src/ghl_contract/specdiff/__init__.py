"""Contract-to-contract diff: what changed for one operation between two contracts, with severities.

Each side is a contract (``pinned``, a schemas directory, or an OpenAPI document; see `sources`).
Every change is one `Finding` with a payload pointer, a rule code from `ghl_contract.rules` and the
severity that rule carries; the whole diff is one `Report`.
"""

from __future__ import annotations

from ghl_contract.findings import Finding, Report
from ghl_contract.openapi_source import Operation, Schema
from ghl_contract.rules import RULES, severity
from ghl_contract.specdiff._compare import SchemaDiff, Side, type_change
from ghl_contract.specdiff.sources import PINNED, contract_operation, load_operation

__all__ = [
    "PINNED",
    "RULE_CODES",
    "contract_operation",
    "diff_operations",
    "diff_schemas",
    "load_operation",
    "type_change",
]

# Every code the diff can report: the request-*/response-* section of the rule table.
RULE_CODES = tuple(code for code in RULES if code.startswith(("request-", "response-")))


def diff_schemas(old: Schema, new: Schema, side: Side, source: str | None = None) -> list[Finding]:
    """The findings between two resolved schemas of one body; `side` says who reads it."""
    diff = SchemaDiff(side, source or side)
    diff.compare(old, new)
    return diff.findings


def _status_order(status: str) -> tuple[int, str]:
    return (int(status), status) if status.isdigit() else (1000, status)


def _finding(rule: str, source: str, message: str, expected: str, actual: str) -> Finding:
    return Finding("", rule, severity(rule), message, expected, actual, source)


def diff_operations(old: Operation, new: Operation) -> Report:
    """Every change to the request, success and error bodies of one operation, old to new."""
    report = Report()
    report.notes.append(
        f"Operation {new.operation_id}: {old.label} (old) compared with {new.label} (new).")
    compared: list[str] = []
    if old.request is not None and new.request is not None:
        report.findings.extend(diff_schemas(old.request, new.request, "request"))
        compared.append("request")
    elif new.request is not None:
        report.findings.append(_finding("request-body-added", "request",
                                        "The request body is new.", "absent", "documented"))
    elif old.request is not None:
        report.findings.append(_finding("request-body-removed", "request",
                                        "The request body is no longer documented.",
                                        "documented", "absent"))
    for status in sorted({*old.responses, *new.responses}, key=_status_order):
        source = f"response {status}"
        before, after = old.responses.get(status), new.responses.get(status)
        if before is not None and after is not None:
            report.findings.extend(diff_schemas(before, after, "response", source))
            compared.append(source)
        elif after is not None:
            report.findings.append(_finding("response-status-added", source,
                                            f"The {status} response is newly documented.",
                                            "absent", "documented"))
        else:
            rule = ("response-success-removed" if status.startswith("2")
                    else "response-error-removed")
            report.findings.append(_finding(rule, source,
                                            f"The {status} response is no longer documented.",
                                            "documented", "absent"))
    report.checked = len(compared)
    if compared:
        report.notes.append(f"Bodies compared: {', '.join(compared)}.")
    return report
