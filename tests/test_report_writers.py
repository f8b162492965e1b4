"""The reports of a contract run: structured facts, identical findings grouped with a count and
their first examples, the baseline's verdicts, and the new fields of a finding in every writer."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from ghl_contract import reporters
from ghl_contract.findings import Finding, Report, Severity, generalise, group, message_shape
from report_samples import CURL, HOSTILE, OPERATION, findings, run_report


def _written(fmt: str, report: Report) -> str:
    stream = io.StringIO()
    reporters.write(fmt, report, stream)
    return stream.getvalue()


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_run_report(fmt: str, snapshot: SnapshotAssertion) -> None:
    assert _written(fmt, run_report()) == snapshot


def _finding(pointer: str = "/a", rule: str = "type-changed", message: str = "m.",
             status: int | None = 200, operation: str | None = OPERATION,
             source: str = "t1") -> Finding:
    return Finding(pointer, rule, Severity.BREAKING, message, source=source, status=status,
                   operation=operation)


@pytest.mark.parametrize(("first", "second", "together"), [
    pytest.param(_finding(source="t1"), _finding(source="t2"), True, id="same-finding-two-tests"),
    pytest.param(_finding("/items/0/x"), _finding("/items/7/x"), True, id="array-indices"),
    pytest.param(_finding(message='is "a", not "b".'), _finding(message='is "c", not "d".'),
                 True, id="values-in-the-message"),
    pytest.param(_finding(message="answered 502."), _finding(message="answered 503."), True,
                 id="numbers-in-the-message"),
    pytest.param(_finding("/a"), _finding("/b"), False, id="other-pointer"),
    pytest.param(_finding("/items/x/0"), _finding("/items/y/0"), False, id="other-key"),
    pytest.param(_finding(rule="type-changed"), _finding(rule="null-not-allowed"), False,
                 id="other-rule"),
    pytest.param(_finding(status=500), _finding(status=503), False, id="other-status"),
    pytest.param(_finding(operation="one"), _finding(operation="two"), False,
                 id="other-operation"),
    pytest.param(_finding(message="is missing."), _finding(message="is null."), False,
                 id="other-message"),
])
def test_identical_findings_share_a_group(first: Finding, second: Finding,
                                          together: bool) -> None:
    assert len(group([first, second])) == (1 if together else 2)


@pytest.mark.parametrize(("pointer", "general"), [
    ("/estimate/items/3/productId", "/estimate/items/*/productId"),
    ("/a/10/b/0", "/a/*/b/*"),
    ("/a/b1/c", "/a/b1/c"),
    ("", ""),
    ("/", "/"),
])
def test_generalised_pointer(pointer: str, general: str) -> None:
    assert generalise(pointer) == general


def test_message_shape_keeps_the_words_and_drops_the_values() -> None:
    assert message_shape("The invoice's altId is \"x1\", but the request sent \"y2\".") == \
        "The invoice's altId is …, but the request sent …."
    assert message_shape("/items/3/qty is 2.5, not 'three'.") == "/items/…/qty is …, not …."


def test_a_group_counts_its_occurrences_and_names_its_first_examples() -> None:
    groups = run_report().groups()
    changed = groups[0]
    assert (changed.rule, changed.pointer, changed.occurrences) == \
        ("type-changed", "/invoice/amountDue", 8)
    assert changed.examples() == [f"test_examples.py::test_converted[estimate-{n}]"
                                  for n in range(3)]
    items = next(g for g in groups if g.pointer == "/invoice/invoiceItems/*/amount")
    assert items.occurrences == 2
    assert items.examples() == ["test_properties.py::test_valid"]  # one test, seen twice


def test_json_keeps_every_finding_and_indexes_them_by_group() -> None:
    data: dict[str, Any] = json.loads(_written("json", run_report()))
    assert len(data["findings"]) == len(findings())
    assert sum(g["occurrences"] for g in data["groups"]) == len(data["findings"])
    for g in data["groups"]:
        assert len(g["findings"]) == g["occurrences"]
        for index in g["findings"]:
            finding = data["findings"][index]
            assert (finding["rule"], generalise(finding["pointer"])) == (g["rule"], g["pointer"])
    server_error = next(g for g in data["groups"] if g["rule"] == "server-error")
    assert server_error == {
        "operation": OPERATION, "rule": "server-error", "pointer": "", "severity": "breaking",
        "status": 500, "message": "The server answered 500.", "occurrences": 3,
        "findings": [8, 9, 10],
        "examples": [f"test_negative.py::test_rejected[case-{n}]" for n in range(3)]}


def test_json_of_a_run_states_its_facts_as_fields() -> None:
    data: dict[str, Any] = json.loads(_written("json", run_report()))
    assert data["tool"] == {"name": "ghl-contract", "version": "0.1.0"}
    assert data["target"] == {"url": "http://127.0.0.1:4010", "embedded": False,
                              "description": "http://127.0.0.1:4010 (live)"}
    assert (data["api_version"], data["seed"]) == ("2021-07-28", 1234)
    assert (data["started"], data["finished"]) == ("2026-12-03T08:15:02.123Z",
                                                   "2026-12-03T08:15:09.456Z")
    assert data["tests"]["total"] == {"passed": 26, "failed": 11, "skipped": 2, "errored": 1}
    assert data["tests"]["modules"]["test_versions.py"] == {
        "passed": 0, "failed": 0, "skipped": 1, "errored": 1}
    assert data["created"][1] == {"operation": OPERATION, "kind": "invoice", "id": "inv-2",
                                  "number": 20, "location": "loc-1", "cleanup": "failed"}
    assert data["skipped"][1] == {"test": "test_versions.py::test_compared",
                                  "reason": "No --compare-version was given."}
    assert data["summary"]["acknowledged"] == 2
    assert data["summary"]["resolved"] == 1
    assert data["baseline"]["acknowledged"][0]["entry"] == {
        "operation": OPERATION, "rule": "missing-required", "pointer": "/estimate/sentTo",
        "reason": "The live API leaves sentTo out (LIVE-FACTS.md).", "until": "2027-06-30"}
    assert data["baseline"]["expired"] == [{"rule": "status-not-draft",
                                            "pointer": "/invoice/status",
                                            "until": "2026-01-31"}]


def test_a_check_report_has_no_run_fields() -> None:
    data: dict[str, Any] = json.loads(_written("json", Report(findings=findings()[:1],
                                                              checked=1)))
    assert set(data) == {"tool", "summary", "findings", "groups", "problems", "notes"}


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_writer_shows_the_curl_command_and_the_servers_message(fmt: str) -> None:
    report = Report(findings=[_finding()], checked=1)
    report.findings[0] = Finding("/a", "server-error", Severity.BREAKING, "The server answered.",
                                 status=500, curl=CURL, server_message="Upstream timed out")
    text = _written(fmt, report)
    if fmt == "html":
        text = text.replace("&#x27;", "'").replace("&quot;", '"')
    assert "Upstream timed out" in text
    assert CURL in text


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_writer_shows_what_the_baseline_acknowledged_and_resolved(fmt: str) -> None:
    text = _written(fmt, run_report())
    assert "Required field /estimate/sentTo is missing." in text
    assert "The live API leaves sentTo out (LIVE-FACTS.md)." in text
    assert "/invoice/meta" in text  # resolved
    assert "status-not-draft" in text  # expired


def test_markdown_rows_are_groups_with_a_count() -> None:
    markdown = _written("markdown", run_report())
    rows = [line for line in markdown.splitlines()
            if line.startswith("| ") and "`type-changed`" in line]
    assert len(rows) == 2  # eight of /invoice/amountDue, two of /invoice/invoiceItems/*/amount
    assert "| 8 |" in rows[0]
    assert "and 5 more (HTTP 200)" in rows[0]
    assert "`/invoice/invoiceItems/*/amount`" in rows[1]


def test_markdown_escapes_what_a_finding_says() -> None:
    markdown = _written("markdown", run_report())
    assert "<script>" not in markdown
    assert "&lt;script&gt;" in markdown
    rows = [line for line in markdown.splitlines()
            if line.startswith("| ") and "`enum-value-unknown`" in line]
    assert [row.replace("\\|", "").count("|") for row in rows] == [7]  # six cells


def test_the_terminal_summary_prints_one_line_per_group_and_how_to_reproduce() -> None:
    from ghl_contract.suite.reports import summary_lines

    lines = summary_lines(run_report(), None, [])
    assert "  /invoice/amountDue  type-changed (8 tests): /invoice/amountDue is string, but the " \
           "contract requires number." in lines
    assert f"    reproduce: {CURL.replace('e1', 'e0')}" in lines
    assert "    server said: Internal server error" in lines
    assert "  /invoice/invoiceItems/*/amount  type-changed (test_properties.py::test_valid): " \
           "/invoice/invoiceItems/0/amount is string, but the contract requires number." in lines
    assert "  /estimate/sentTo  missing-required (2 tests): Required field /estimate/sentTo is " \
           "missing." in lines
    assert "  property-added at /invoice/meta (create-invoice-from-estimate)" in lines
    assert "Left on the target: invoice inv-1 (number 19) in location loc-1: kept." in lines


def test_html_is_escaped_and_loads_nothing() -> None:
    page = _written("html", run_report())
    assert "<script" not in page
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    for marker in ("src=", "href=", "url(", "@import", "http-equiv=\"refresh\""):
        assert marker not in page
    assert "Content-Security-Policy" in page


def test_written_reports_keep_no_token_even_escaped(tmp_path: Path) -> None:
    from ghl_contract.suite.reports import write_files

    token = "pit_live*Token~42"
    report = run_report()
    report.findings.append(Finding("", "server-error", Severity.BREAKING,
                                   f"The server said Bearer {token} is invalid.",
                                   server_message=token, curl=f"curl -H 'x: {token}'"))
    for path in write_files(report, tmp_path, (token,)):
        text = path.read_text(encoding="utf-8")
        for form in (token, "pit\\_live\\*Token~42", "pit_live", "Token~42"):
            assert form not in text, (path.name, form)
