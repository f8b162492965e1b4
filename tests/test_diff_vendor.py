"""`ghl-contract diff` over HighLevel's published OpenAPI files (tests/data/vendor-openapi)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.cli import run
from ghl_contract.resources import schemas_dir

DATA = Path(__file__).parent / "data" / "diff"
HISTORY: list[dict[str, Any]] = json.loads((DATA / "history.json").read_text("utf-8"))


def diff(*argv: str) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["diff", *argv, "--format", "json"], stdout, stderr)
    return code, json.loads(stdout.getvalue()) if stdout.getvalue() else {}, stderr.getvalue()


def _found(report: dict[str, Any]) -> list[dict[str, str]]:
    return [{key: finding[key] for key in ("source", "pointer", "rule", "severity")}
            for finding in report["findings"]]


@pytest.mark.parametrize("refs", [
    pytest.param(["--ref", "../common/common-schemas.json={v3}"], id="v3-common-by-ref"),
    pytest.param([], id="common-by-basename-fallback"),
])
def test_current_file_against_v3_reports_no_change(vendor_dir: Path, refs: list[str]) -> None:
    argv = [part.format(v3=vendor_dir / "v3-common-schemas.json") for part in refs]
    code, report, stderr = diff(str(vendor_dir / "invoices.json"),
                                str(vendor_dir / "invoices-v3.json"), *argv)
    assert (code, stderr) == (0, "")
    assert report["findings"] == []
    # request, 200, 400, 401 and 422 were all compared: "no change" is not "nothing read".
    assert report["summary"]["checked"] == 5


@pytest.mark.parametrize("case", HISTORY, ids=[case["id"] for case in HISTORY])
def test_history(vendor_dir: Path, case: dict[str, Any]) -> None:
    refs = [f"--ref={written}={vendor_dir / file}" for written, file in case["refs"].items()]
    code, report, stderr = diff(str(vendor_dir / case["old"]), str(vendor_dir / case["new"]),
                                "--operation", case["operation"], *refs)
    assert stderr == ""
    assert _found(report) == case["findings"], case["description"]
    assert code == case["exit"]
    breaking = [f for f in case["findings"] if f["severity"] == "breaking"]
    assert report["summary"]["breaking"] == len(breaking)
    assert report["summary"]["findings"] == len(case["findings"])


def test_an_operation_id_used_twice_is_refused(vendor_dir: Path) -> None:
    code, report, stderr = diff(
        str(vendor_dir / "history" / "invoices-2025-08-08.json"),
        str(vendor_dir / "history" / "invoices-2025-08-13.json"),
        "--operation", "update-invoice-late-fees-configuration",
        f"--ref=../common/common-schemas.json={vendor_dir / 'common-schemas.json'}")
    assert (code, report) == (2, {})
    # The template's late-fee route and its payment-methods route reuse the invoice's id.
    assert "names 3 operations" in stderr
    assert "invoices-2025-08-08.json" in stderr


# Where HighLevel's file differs from the pinned contract for this operation, by design: the
# recorded decisions (schemas/decisions/vendor-openapi.json) explain each.
PINNED_DIVERGENCES = [
    ("response 200", "/invoice/invoiceNumber", "response-type-narrowed", "breaking"),
    ("response 200", "/invoice/invoiceItems/*", "response-type-changed", "breaking"),
    ("response 200", "/estimate/items/*", "response-type-changed", "breaking"),
    ("response 200", "/estimate/estimateActionHistory/*", "response-type-changed", "breaking"),
    ("response 200", "/estimate/businessDetails/name", "response-property-removed", "breaking"),
    ("response 200", "/estimate/frequencySettings/schedule", "response-required-added",
     "non-breaking"),
    ("response 200", "/invoice/issueDate", "response-format-removed", "non-breaking"),
]


def test_pinned_against_the_vendor_file_reports_the_vendor_divergences(vendor_dir: Path) -> None:
    code, report, stderr = diff("pinned", str(vendor_dir / "invoices.json"))
    assert (code, stderr) == (1, "")
    found = {(f["source"], f["pointer"], f["rule"], f["severity"]) for f in report["findings"]}
    missing = [divergence for divergence in PINNED_DIVERGENCES if divergence not in found]
    assert missing == []
    # The request bodies agree, and the summary counts what is listed.
    assert not [f for f in report["findings"] if f["source"] == "request"]
    assert report["summary"]["breaking"] == sum(
        f["severity"] == "breaking" for f in report["findings"])
    assert report["summary"]["non_breaking"] == sum(
        f["severity"] == "non-breaking" for f in report["findings"])


def test_one_change_is_one_finding(vendor_dir: Path) -> None:
    _, report, _ = diff("pinned", str(vendor_dir / "invoices.json"))
    # A lost minimum and a lost maximum at one place are two changes, told apart by their values.
    keys = [(f["source"], f["pointer"], f["rule"], json.dumps(f.get("expected")),
             json.dumps(f.get("actual"))) for f in report["findings"]]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("new", ["pinned", "schemas-dir"])
def test_the_pinned_contract_against_itself_has_no_change(new: str) -> None:
    code, report, stderr = diff("pinned", str(schemas_dir()) if new == "schemas-dir" else new)
    assert (code, report["findings"], stderr) == (0, [], "")
    assert report["summary"]["checked"] >= 3
