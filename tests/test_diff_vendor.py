"""`ghl-contract diff` over HighLevel's published OpenAPI files (tests/data/vendor-openapi).

tests/data/diff/history.json pins every finding between consecutive vendor files, all operations
compared. Each was checked against the raw difference of the two files (references resolved,
descriptions and examples left out) and against what oasdiff's checks report for the same change;
its description says what changed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.cli import run
from ghl_contract.registry import pinned
from ghl_contract.resources import schemas_dir

DATA = Path(__file__).parent / "data" / "diff"
HISTORY: list[dict[str, Any]] = json.loads((DATA / "history.json").read_text("utf-8"))
COMMON = "../common/common-schemas.json"


def diff(*argv: str, fmt: str = "json") -> tuple[int, Any, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["diff", *argv, "--format", fmt], stdout, stderr)
    out = stdout.getvalue()
    if fmt == "json":
        return code, json.loads(out) if out else {}, stderr.getvalue()
    return code, out, stderr.getvalue()


def _rows(report: dict[str, Any]) -> list[list[str]]:
    return [[f["operation"], f["source"], f["pointer"], f["rule"], f["severity"]]
            for f in report["findings"]]


@pytest.mark.parametrize("case", HISTORY, ids=[case["id"] for case in HISTORY])
def test_history(vendor_dir: Path, case: dict[str, Any]) -> None:
    refs = [f"--ref={written}={vendor_dir / file}" for written, file in case["refs"].items()]
    code, report, stderr = diff(str(vendor_dir / case["old"]), str(vendor_dir / case["new"]),
                                *refs)
    assert stderr == ""
    assert _rows(report) == case["findings"], case["description"]
    assert code == case["exit"]
    assert report["diff"]["summary"] == case["operations"]
    assert report["summary"]["breaking"] == sum(
        row[4] == "breaking" for row in case["findings"])
    # every rule found has its oasdiff counterpart written down
    assert sorted(case["oasdiff"]) == sorted({row[3] for row in case["findings"]})


def test_the_version_header_of_v3_breaks_the_operation(vendor_dir: Path) -> None:
    """The acceptance check: the one change that breaks every client of this endpoint."""
    code, report, stderr = diff(str(vendor_dir / "invoices.json"),
                                str(vendor_dir / "invoices-v3.json"),
                                "--operation", "create-invoice-from-estimate",
                                "--ref", f"{COMMON}={vendor_dir / 'common-schemas.json'}")
    assert (code, stderr) == (1, "")
    assert [(f["pointer"], f["rule"], f["severity"]) for f in report["findings"]
            if f["severity"] == "breaking"] == [
        ("/parameters/header/Version", "request-enum-value-removed", "breaking")]
    # parameters, security, request, 200, 400, 401 and 422 were all compared
    assert report["diff"]["operations"][0]["compared"] == [
        "parameters", "security", "request", "response 200", "response 400", "response 401",
        "response 422"]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_every_changed_operation_has_its_summary_line(vendor_dir: Path, fmt: str) -> None:
    code, out, _ = diff(str(vendor_dir / "history" / "invoices-2025-05-04.json"),
                        str(vendor_dir / "invoices.json"), fmt=fmt)
    _, report, _ = diff(str(vendor_dir / "history" / "invoices-2025-05-04.json"),
                        str(vendor_dir / "invoices.json"))
    assert code == 1
    for operation in report["diff"]["operations"]:
        if fmt == "text":
            assert operation["summary"] in out.splitlines()
        elif operation["change"] != "unchanged":
            assert f"| `{operation['operation']}` |" in out


def test_markdown_gives_operations_with_the_same_changes_one_section(vendor_dir: Path) -> None:
    _, out, _ = diff(str(vendor_dir / "history" / "invoices-2025-07-22.json"),
                     str(vendor_dir / "history" / "invoices-2025-08-08.json"),
                     f"--ref={COMMON}={vendor_dir / 'common-schemas.json'}", fmt="markdown")
    sections = [line for line in out.splitlines() if line.startswith("### ")]
    # 41 operations changed in 10 ways: nine scope lists, and none for five of them.
    assert len(sections) == 10
    assert len(out) < 65536  # a pull-request comment holds it


def test_an_operation_id_used_twice_is_refused(vendor_dir: Path) -> None:
    code, report, stderr = diff(
        str(vendor_dir / "history" / "invoices-2025-08-08.json"),
        str(vendor_dir / "history" / "invoices-2025-08-13.json"),
        "--operation", "update-invoice-late-fees-configuration",
        f"--ref={COMMON}={vendor_dir / 'common-schemas.json'}")
    assert (code, report) == (2, {})
    # The template's late-fee route and its payment-methods route reuse the invoice's id.
    assert "names 3 operations" in stderr
    assert "invoices-2025-08-08.json" in stderr


def test_an_operation_named_by_route_is_compared_on_its_route(vendor_dir: Path) -> None:
    code, report, _ = diff(
        str(vendor_dir / "history" / "invoices-2025-08-08.json"),
        str(vendor_dir / "history" / "invoices-2025-08-13.json"),
        "--operation", "PATCH /invoices/{invoiceId}/late-fees-configuration",
        f"--ref={COMMON}={vendor_dir / 'common-schemas.json'}")
    assert (code, report["findings"]) == (0, [])
    assert [op["change"] for op in report["diff"]["operations"]] == ["unchanged"]


# Where HighLevel's file differs from the pinned contract for this operation, by design: the
# recorded decisions (schemas/decisions/vendor-openapi.json) explain each.
PINNED_DIVERGENCES = [
    ("response 200", "/invoice/invoiceNumber", "response-type-narrowed", "non-breaking"),
    ("response 200", "/invoice/invoiceItems/*", "response-type-changed", "breaking"),
    ("response 200", "/estimate/items/*", "response-type-changed", "breaking"),
    ("response 200", "/estimate/estimateActionHistory/*", "response-type-changed", "breaking"),
    ("response 200", "/estimate/businessDetails/name", "response-property-removed", "breaking"),
    ("response 200", "/estimate/frequencySettings/schedule", "response-required-added",
     "non-breaking"),
    ("response 200", "/invoice/issueDate", "response-format-removed", "breaking"),
    # The contract takes v3 too (the run's --compare-version); the vendor's file only 2021-07-28.
    ("parameters", "/parameters/header/Version", "request-enum-value-removed", "breaking"),
    # Agency tokens: documented by the vendor, not by the contract.
    ("security", "/security/Agency-Access", "request-security-added", "non-breaking"),
]


def test_pinned_against_the_vendor_file_reports_the_vendor_divergences(vendor_dir: Path) -> None:
    code, report, stderr = diff("pinned", str(vendor_dir / "invoices.json"))
    assert (code, stderr) == (1, "")
    ours = [f for f in report["findings"] if f["operation"] == "create-invoice-from-estimate"]
    found = {(f["source"], f["pointer"], f["rule"], f["severity"]) for f in ours}
    missing = [divergence for divergence in PINNED_DIVERGENCES if divergence not in found]
    assert missing == []
    # The request bodies agree, and the summary counts what is listed.
    assert not [f for f in ours if f["source"] == "request"]
    assert report["summary"]["breaking"] == sum(
        f["severity"] == "breaking" for f in report["findings"])
    assert report["summary"]["non_breaking"] == sum(
        f["severity"] == "non-breaking" for f in report["findings"])


def test_pinned_against_the_vendor_file_compares_only_what_the_contract_describes(
        vendor_dir: Path) -> None:
    _, report, _ = diff("pinned", str(vendor_dir / "invoices.json"))
    described = {operation.id for operation in pinned().manifest}
    assert {op["operation"] for op in report["diff"]["operations"]} == described
    assert {op["change"] for op in report["diff"]["operations"]} == {"changed"}
    assert not [f for f in report["findings"] if f["rule"] == "operation-added"]
    others = 42 - len(described)
    assert report["notes"] == [
        f"Not compared: {others} operations that the pinned contract does not describe "
        "(list-invoice-templates, create-invoice-template, get-invoice-template, "
        f"update-invoice-template, delete-invoice-template and {others - 5} more)."]


def test_an_operation_named_beside_pinned_is_compared_even_if_the_contract_lacks_it(
        vendor_dir: Path) -> None:
    code, report, _ = diff(str(vendor_dir / "invoices.json"), "pinned",
                           "--operation", "create-invoice")
    assert code == 1
    assert [(f["operation"], f["rule"]) for f in report["findings"]] == [
        ("create-invoice", "operation-removed")]


def test_one_change_is_one_finding(vendor_dir: Path) -> None:
    _, report, _ = diff("pinned", str(vendor_dir / "invoices.json"))
    # A lost minimum and a lost maximum at one place are two changes, told apart by their values.
    keys = [(f["operation"], f["source"], f["pointer"], f["rule"], json.dumps(f.get("expected")),
             json.dumps(f.get("actual"))) for f in report["findings"]]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("new", ["pinned", "schemas-dir"])
def test_the_pinned_contract_against_itself_has_no_change(new: str) -> None:
    code, report, stderr = diff("pinned", str(schemas_dir()) if new == "schemas-dir" else new)
    assert (code, report["findings"], stderr) == (0, [], "")
    assert report["summary"]["checked"] >= 3
