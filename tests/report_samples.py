"""A contract run's report with one of everything a writer shows, for the report tests."""

from __future__ import annotations

from datetime import date

from ghl_contract.baseline import Acknowledged, Entry, Judgement
from ghl_contract.findings import (
    Cleanup,
    Counts,
    CreatedObject,
    Finding,
    Report,
    RunTarget,
    Severity,
    SkippedTest,
)

OPERATION = "create-invoice-from-estimate"
HOSTILE = '<script>alert("x")</script> & | `tick` **bold**'
CURL = ("curl -X POST 'http://127.0.0.1:4010/invoices/estimate/e1/invoice' "
        "-H 'Authorization: Bearer $GHL_TOKEN' -H 'Version: 2021-07-28' "
        "-H 'Content-Type: application/json' --data-raw '{\"altId\":\"loc\"}'")


def _changed_type(test: int) -> Finding:
    return Finding("/invoice/amountDue", "type-changed", Severity.BREAKING,
                   "/invoice/amountDue is string, but the contract requires number.",
                   ["number"], "string", f"test_examples.py::test_converted[estimate-{test}]",
                   200, operation=OPERATION, curl=CURL.replace("e1", f"e{test}"))


def _server_error(test: int) -> Finding:
    return Finding("", "server-error", Severity.BREAKING, "The server answered 500.", None, None,
                   f"test_negative.py::test_rejected[case-{test}]", 500, f"trace-{test}",
                   operation=OPERATION, curl=CURL, server_message="Internal server error")


def findings() -> list[Finding]:
    return [
        *(_changed_type(test) for test in range(8)),
        *(_server_error(test) for test in range(3)),
        Finding("/invoice/invoiceItems/0/amount", "type-changed", Severity.BREAKING,
                "/invoice/invoiceItems/0/amount is string, but the contract requires number.",
                ["number"], "string", "test_properties.py::test_valid", 200, operation=OPERATION),
        Finding("/invoice/invoiceItems/2/amount", "type-changed", Severity.BREAKING,
                "/invoice/invoiceItems/2/amount is string, but the contract requires number.",
                ["number"], "string", "test_properties.py::test_valid", 200, operation=OPERATION),
        Finding("/invoice/paymentLink", "property-added", Severity.NON_BREAKING,
                "Field /invoice/paymentLink is not in the contract.", "absent", "present",
                "test_examples.py::test_converted[estimate-0]", 200, operation=OPERATION),
        Finding("/invoice/title", "enum-value-unknown", Severity.BREAKING, HOSTILE, None, HOSTILE,
                f"test_{HOSTILE}.py", 200, operation=OPERATION, server_message=HOSTILE),
    ]


SENT_TO = Entry("missing-required", "/estimate/sentTo", OPERATION,
                reason="The live API leaves sentTo out (LIVE-FACTS.md).", until=date(2027, 6, 30))
RESOLVED = Entry("property-added", "/invoice/meta", OPERATION, reason="Seen in 2026.")
EXPIRED = Entry("status-not-draft", "/invoice/status", None, until=date(2026, 1, 31))


def _acknowledged(test: int) -> Acknowledged:
    finding = Finding("/estimate/sentTo", "missing-required", Severity.BREAKING,
                      "Required field /estimate/sentTo is missing.", None, None,
                      f"test_examples.py::test_converted[estimate-{test}]", 200,
                      operation=OPERATION)
    return Acknowledged(finding, SENT_TO)


def run_report() -> Report:
    """A run against a live URL: findings of every kind, a baseline, skips, created invoices."""
    return Report(
        findings=findings(),
        checked=48,
        notes=["Plan: 56 contract tests against http://127.0.0.1:4010 (live): at most 30 "
               "requests, 5 writes."],
        tool_version="0.1.0",
        target=RunTarget("http://127.0.0.1:4010", False, "http://127.0.0.1:4010 (live)"),
        api_version="2021-07-28",
        seed=1234,
        started="2026-12-03T08:15:02.123Z",
        finished="2026-12-03T08:15:09.456Z",
        tests={"test_examples.py": Counts(passed=0, failed=7),
               "test_negative.py": Counts(passed=26, failed=3),
               "test_properties.py": Counts(failed=1, skipped=1),
               "test_versions.py": Counts(skipped=1, errored=1)},
        created=[CreatedObject(OPERATION, "invoice", "inv-1", "19", "loc-1", Cleanup.KEPT),
                 CreatedObject(OPERATION, "invoice", "inv-2", 20, "loc-1", Cleanup.FAILED)],
        skipped=[SkippedTest("test_properties.py::test_invalid",
                             "Skipped: the write budget of 5 reached (--max-writes)."),
                 SkippedTest("test_versions.py::test_compared",
                             "No --compare-version was given.")],
        requests={"requests": 48, "writes": 5, "retries": 1, "rate_limit_waits": 2,
                  "skipped_writes": 9},
        baseline=Judgement("highlevel-baseline.json", [],
                           [_acknowledged(test) for test in range(2)], [RESOLVED], [EXPIRED]),
    )
