"""The reports people and CI read: text and Markdown snapshots, JSON shape, Markdown escaping."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from ghl_contract import reporters
from ghl_contract.cli import run
from ghl_contract.findings import Finding, Report, Severity

INPUTS = Path(__file__).resolve().parent / "data" / "check" / "inputs"


def _check(*argv: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    run(["check", *argv], stdout, stderr)
    return stdout.getvalue()


@pytest.fixture
def in_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sources are named as given: run from the inputs directory so they stay short and fixed."""
    monkeypatch.chdir(INPUTS)


@pytest.mark.usefixtures("in_inputs")
@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("argv", [
    pytest.param(("requests.ndjson", "--kind", "request"), id="ndjson-requests"),
    pytest.param(("recorded.har",), id="har-recording"),
])
def test_check_report(argv: tuple[str, ...], fmt: str, snapshot: SnapshotAssertion) -> None:
    assert _check(*argv, "--format", fmt) == snapshot


def _suite_report() -> Report:
    """A report as the contract suite makes it: sources are tests, with notes, no input problem."""
    return Report(
        findings=[
            Finding("/invoice/status", "enum-value-unknown", Severity.BREAKING,
                    'status is "pending" | "open", which is not one of the documented values.',
                    ["draft"], "pending", "test_examples.py::test_response[live]", 200,
                    "0b7c1f0e-0000"),
            Finding("/invoice/notes|x", "property-added", Severity.NON_BREAKING,
                    "Field /invoice/notes|x is not in the contract.", "absent", "present",
                    "test_examples.py::test_response[live]", 200),
            Finding("", "timeout", Severity.BREAKING, "No answer within 10 s.", None, None, None),
        ],
        checked=7,
        notes=["2 writes skipped: --allow-writes is off.", "Created invoice INV-19 (draft)."],
    )


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_report_of_the_suite(fmt: str, snapshot: SnapshotAssertion) -> None:
    stream = io.StringIO()
    reporters.write(fmt, _suite_report(), stream)
    assert stream.getvalue() == snapshot


def test_json_report_is_report_to_dict() -> None:
    stream = io.StringIO()
    reporters.write("json", _suite_report(), stream)
    data: dict[str, Any] = json.loads(stream.getvalue())
    assert set(data) == {"tool", "summary", "findings", "groups", "problems", "notes"}
    assert data["summary"] == {"checked": 7, "findings": 3, "breaking": 2, "non_breaking": 1,
                               "problems": 0}
    assert data["findings"][0] == {
        "pointer": "/invoice/status", "rule": "enum-value-unknown", "severity": "breaking",
        "message": 'status is "pending" | "open", which is not one of the documented values.',
        "expected": ["draft"], "actual": "pending",
        "source": "test_examples.py::test_response[live]", "status": 200,
        "trace_id": "0b7c1f0e-0000"}
    assert data["notes"] == _suite_report().notes


def test_markdown_table_rows_keep_six_cells() -> None:
    stream = io.StringIO()
    reporters.write("markdown", _suite_report(), stream)
    rows = [line for line in stream.getvalue().splitlines() if line.startswith("| ")]
    for row in rows:
        unescaped = row.replace("\\|", "")
        assert unescaped.count("|") == 7, row


def test_markdown_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reporters.markdown, "MAX_ROWS", 2)
    stream = io.StringIO()
    reporters.write("markdown", _suite_report(), stream)
    assert "_1 more row not shown here; the JSON report has them all._" in stream.getvalue()


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(reporters.UsageError, match="Unknown report format 'xml'"):
        reporters.write("xml", Report(), io.StringIO())
