"""`ghl-contract lint-vendor`: contradictions between a vendor file and the examples, with the
recorded decisions, and the vendor's differences from the pinned contract."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.cli import run
from ghl_contract.openapi_source import load_document
from ghl_contract.registry import pinned
from ghl_contract.specdiff import contract_operation
from ghl_contract.vendor_lint import (
    Decision,
    contradictions,
    documented_examples,
    lint,
    load_decisions,
)

LINT = Path(__file__).parent / "data" / "diff" / "lint"
OPERATION = "create-invoice-from-estimate"


def lint_cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["lint-vendor", *argv], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LINT / "expected.json").read_text("utf-8"))
    return data


def test_each_kind_of_contradiction_is_found_once(expected: dict[str, Any]) -> None:
    found = contradictions(load_document(LINT / "vendor.json"), OPERATION, expected["examples"])
    got = sorted([c.payload, c.pointer, c.kind, c.origins] for c in found)
    want = sorted([c["payload"], c["pointer"], c["kind"], c["origins"]]
                  for c in expected["contradictions"])
    assert got == want


def test_an_unrecorded_contradiction_is_breaking(expected: dict[str, Any]) -> None:
    document = load_document(LINT / "vendor.json")
    report = lint(document, OPERATION, expected["examples"],
                  contract_operation(pinned()), decisions={})
    unrecorded = [f for f in report.findings if f.rule == "vendor-contradiction-unrecorded"]
    assert len(unrecorded) == len(expected["contradictions"])
    assert all("no recorded decision covers it" in f.message for f in unrecorded)
    assert report.exit_code() == 1


def test_a_recorded_decision_that_matches_nothing_is_noted(expected: dict[str, Any]) -> None:
    stale = Decision("response", "/invoice/nowhere", "type", "a string", "no reason")
    report = lint(load_document(LINT / "vendor.json"), OPERATION, expected["examples"],
                  contract_operation(pinned()), decisions={stale.key: stale})
    assert any("('response', '/invoice/nowhere', 'type')" in note and "matches no" in note
               for note in report.notes)


@pytest.mark.parametrize("name", ["invoices.json", "invoices-v3.json"])
def test_every_contradiction_of_the_vendor_file_has_its_recorded_decision(
        vendor_dir: Path, name: str) -> None:
    code, out, err = lint_cli(str(vendor_dir / name), "--format", "json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    decisions, _ = load_decisions()
    listed = [f for f in report["findings"] if f["rule"].startswith("vendor-contradiction")]
    assert {f["rule"] for f in listed} == {"vendor-contradiction"}
    assert sorted(f["pointer"] for f in listed) == sorted(key[1] for key in decisions)
    assert all("recorded decision" in f["message"] for f in listed)


def test_differences_from_the_pinned_contract_carry_their_decision(vendor_dir: Path) -> None:
    _, out, _ = lint_cli(str(vendor_dir / "invoices.json"), "--format", "json")
    divergences = {f["pointer"]: f for f in json.loads(out)["findings"]
                   if f["rule"] == "vendor-divergence"}
    # Same place as a decision, and a field below an object the vendor left without properties.
    for pointer in ("/invoice/invoiceNumber", "/estimate/businessDetails/name"):
        assert "recorded decision" in divergences[pointer]["message"], pointer
    assert all(f["severity"] == "non-breaking" for f in divergences.values())


def test_text_report_names_every_decided_place(vendor_dir: Path) -> None:
    code, out, _ = lint_cli(str(vendor_dir / "invoices.json"))
    decisions, _ = load_decisions()
    assert code == 0
    for _, pointer, _ in decisions:
        assert pointer in out


def test_documented_examples_are_the_shipped_ones(documented_request: dict[str, Any],
                                                  documented_response: dict[str, Any]) -> None:
    assert documented_examples() == {"request": documented_request,
                                     "response": documented_response}


@pytest.mark.parametrize(("argv", "words"), [
    pytest.param(["{tmp}/missing.json"], ["missing.json", "does not exist"], id="missing-file"),
    pytest.param(["{vendor}/invoices.json", "--operation", "create-invoice"],
                 ["describes only create-invoice-from-estimate"], id="operation-without-contract"),
    pytest.param(["{vendor}/history/invoices-2025-08-13.json"],
                 ["../common/common-schemas.json", "--ref"], id="unresolved-external-ref"),
])
def test_bad_input_is_one_sentence_and_exit_2(tmp_path: Path, vendor_dir: Path, argv: list[str],
                                              words: list[str]) -> None:
    code, out, err = lint_cli(*[part.format(tmp=tmp_path, vendor=vendor_dir) for part in argv])
    assert (code, out) == (2, "")
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    assert all(word in err for word in words), err
