"""`ghl-contract lint-vendor`: where a vendor file contradicts its own examples, where its examples
fail the contract, and how its schemas differ from the contract, for every operation of the
manifest, each place with its recorded decision."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from openapi_spec_validator import validate

from ghl_contract import openapi_doc
from ghl_contract.cli import run
from ghl_contract.decisions import Decision, Decisions, load_decisions, payload_label
from ghl_contract.openapi_source import load_document
from ghl_contract.registry import pinned
from ghl_contract.resources import schemas_dir
from ghl_contract.vendor_examples import documented_body
from ghl_contract.vendor_lint import Contradiction, lint, lint_operation

LINT = Path(__file__).parent / "data" / "diff" / "lint"
OPERATION = "create-invoice-from-estimate"
OPERATIONS = [operation.id for operation in pinned().manifest]


def lint_cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["lint-vendor", *argv], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LINT / "expected.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def linted(vendor_dir: Path) -> dict[str, Any]:
    """The JSON report of `lint-vendor invoices.json` over every operation."""
    code, out, err = lint_cli(str(vendor_dir / "invoices.json"), "--format", "json")
    assert (code, err) == (0, ""), err
    report: dict[str, Any] = json.loads(out)
    return report


def _synthetic() -> list[Contradiction]:
    return lint_operation(load_document(LINT / "vendor.json"), pinned().manifest.primary,
                          pinned(), Decisions(())).contradictions


def test_each_kind_of_contradiction_of_the_vendor_with_itself_is_found_once(
        expected: dict[str, Any]) -> None:
    found = [c for c in _synthetic() if c.vendor is not None]
    got = sorted([c.payload, c.pointer, c.kind, c.origins] for c in found)
    want = sorted([c["payload"], c["pointer"], c["kind"], c["origins"]]
                  for c in expected["contradictions"])
    assert got == want


def test_an_example_the_contract_rejects_is_a_contradiction_though_the_vendor_accepts_it() -> None:
    found = {(c.payload, c.pointer, c.kind): c for c in _synthetic()}
    missing_id = found[("response", "/invoice/_id", "missing-required")]
    assert (missing_id.vendor, missing_id.contract) == (None, "required")
    both = found[("response", "/invoice/invoiceItems/*", "type")]
    assert (both.vendor, both.contract) == ("type: string", "type: object")


def test_an_unrecorded_contradiction_is_breaking(vendor_dir: Path) -> None:
    report = lint(load_document(vendor_dir / "invoices.json"), list(pinned().manifest),
                  pinned(), Decisions(()))
    listed = [f for f in report.findings if f.rule.startswith("vendor-contradiction")]
    assert listed
    assert {f.rule for f in listed} == {"vendor-contradiction-unrecorded"}
    assert all("no recorded decision covers it" in f.message for f in listed)
    assert report.exit_code() == 1


def test_a_recorded_decision_that_matches_nothing_is_noted(vendor_dir: Path) -> None:
    stale = Decision("/nowhere", "type", "a string", "no reason at all here",
                     operation="get-invoice", payload="response")
    report = lint(load_document(vendor_dir / "invoices.json"),
                  [pinned().manifest.get("get-invoice")], pinned(),
                  Decisions((*load_decisions().decisions, stale)))
    assert any("/nowhere (type) of get-invoice response matches no contradiction" in note
               for note in report.notes)


@pytest.mark.parametrize("name", ["invoices.json", "invoices-v3.json"])
def test_every_contradiction_of_the_vendor_file_has_its_recorded_decision(
        vendor_dir: Path, name: str) -> None:
    code, out, err = lint_cli(str(vendor_dir / name), "--format", "json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    listed = [f for f in report["findings"] if f["rule"].startswith("vendor-contradiction")]
    assert {f["rule"] for f in listed} == {"vendor-contradiction"}
    assert all("recorded decision" in f["message"] for f in listed)
    assert {f["operation"] for f in listed} == set(OPERATIONS)
    assert not any("matches no contradiction" in note for note in report["notes"])


def test_differences_from_the_pinned_contract_carry_their_decision(
        linted: dict[str, Any]) -> None:
    divergences = {(f["operation"], f["pointer"]): f for f in linted["findings"]
                   if f["rule"] == "vendor-divergence"}
    # Same place as a decision, a field below an object the vendor left without properties,
    # the same object in another operation, and a note on every error body.
    for place in [(OPERATION, "/invoice/invoiceNumber"),
                  (OPERATION, "/estimate/businessDetails/name"),
                  ("get-invoice", "/invoiceItems/*"),
                  ("list-estimates", "/estimates/*"),
                  ("void-invoice", "/statusCode")]:
        assert "recorded" in divergences[place]["message"], place
    assert all(f["severity"] == "non-breaking" for f in divergences.values())


def test_text_report_names_every_decided_place(vendor_dir: Path) -> None:
    code, out, _ = lint_cli(str(vendor_dir / "invoices.json"))
    assert code == 0
    for decision in load_decisions().decisions:
        assert decision.pointer in out, decision.scope


def _notes_by_operation(report: dict[str, Any]) -> dict[str, str]:
    return {note.split(":", 1)[0]: note for note in report["notes"]}


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_one_operation_is_linted_alone(vendor_dir: Path, linted: dict[str, Any],
                                      operation_id: str) -> None:
    code, out, err = lint_cli(str(vendor_dir / "invoices.json"), "--operation", operation_id,
                              "--format", "json")
    assert (code, err) == (0, "")
    alone = json.loads(out)
    assert {f["operation"] for f in alone["findings"]} == {operation_id}
    assert alone["findings"] == [f for f in linted["findings"]
                                 if f["operation"] == operation_id]
    assert _notes_by_operation(alone) == {
        operation_id: _notes_by_operation(linted)[operation_id]}


def test_an_operation_is_named_by_its_route_too(vendor_dir: Path) -> None:
    by_id = lint_cli(str(vendor_dir / "invoices.json"), "--operation", "get-invoice")
    by_route = lint_cli(str(vendor_dir / "invoices.json"), "--operation",
                        "GET /invoices/{invoiceId}")
    assert by_route == by_id


# --- the acceptance of issue 12, as it is written ----------------------------------------------

_COUNTS = re.compile(r"^(?P<operation>[a-z-]+): of (?P<examples>\d+) documented examples? in "
                     r"invoices\.json, (?P<passing>\d+) pass the contract, (?P<covered>\d+) fail "
                     r"it where a recorded decision covers each failure, (?P<failing>\d+) fail it "
                     r"uncovered;")


def test_issue_12_acceptance(vendor_dir: Path, linted: dict[str, Any]) -> None:
    """`ghl-contract openapi` lists the nine operations (issue 12's eight and list-invoices, which
    cleanup finds invoices with) with their documented statuses,
    validates as OpenAPI 3.1 and loads in Schemathesis; every documented request and response
    example of those operations in the vendor file passes its contract or is covered by a
    recorded decision (lint-vendor says which)."""
    out, err = io.StringIO(), io.StringIO()
    assert run(["openapi"], out, err) == 0, err.getvalue()
    document = json.loads(out.getvalue())
    validate(document)
    schema = schemathesis.openapi.from_dict(document)
    vendor = load_document(vendor_dir / "invoices.json")
    listed = {}
    for route, item in document["paths"].items():
        for method, operation in item.items():
            listed[operation["operationId"]] = (method.upper(), route, set(operation["responses"]))
    assert sorted(listed) == sorted(OPERATIONS)
    assert len(listed) == 9
    for operation in pinned().manifest:
        method, route, statuses = listed[operation.id]
        assert schema.find_operation_by_id(operation.id).path == route == operation.path
        documented = set(vendor.operation(operation.id).responses)
        raw = next(r.operation for r in vendor.operations() if r.operation_id == operation.id)
        documented |= {str(status) for status in raw["responses"]}  # bodies without a schema
        assert documented <= statuses, operation.id
        observed = {str(s) for s, r in operation.responses.items() if r.observed}
        assert statuses == documented | observed, operation.id

    counts = {m["operation"]: m for note in linted["notes"] if (m := _COUNTS.match(note))}
    assert sorted(counts) == sorted(OPERATIONS)
    for operation_id, count in counts.items():
        assert int(count["failing"]) == 0, operation_id
        assert int(count["examples"]) == int(count["passing"]) + int(count["covered"]) > 0
    assert sum(int(c["covered"]) for c in counts.values()) > 0  # lint-vendor says which
    covered = [f for f in linted["findings"]
               if f["rule"] == "vendor-contradiction" and "the contract says" in f["message"]]
    assert covered
    assert all("recorded decision" in f["message"] for f in covered)


# --- the documented examples shipped beside the contract --------------------------------------

def _leaves(value: Any, at: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{at}/{key}")
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, f"{at}/{index}")
    else:
        yield at, value


def _shipped() -> Iterator[tuple[str, str, str]]:
    """(operation, vendor status or 'request', example path) of every shipped body example."""
    for operation in pinned().manifest:
        if operation.request_example:
            yield operation.id, "request", operation.request_example
        for status, response in operation.responses.items():
            if response.example:
                yield operation.id, str(status), response.example


SHIPPED = sorted(_shipped())


@pytest.mark.parametrize(("operation_id", "status", "path"), SHIPPED,
                         ids=[f"{o}-{s}" for o, s, _ in SHIPPED])
def test_a_shipped_example_is_the_vendors_except_where_a_decision_departs(
        vendor_dir: Path, operation_id: str, status: str, path: str) -> None:
    """Each file under schemas/examples/ is the body HighLevel's reference page shows, assembled
    from invoices.json, except at places a recorded decision covers."""
    operation = pinned().manifest.get(operation_id)
    vendor = load_document(vendor_dir / "invoices.json").operation(operation_id)
    schema = vendor.request if status == "request" else vendor.responses[status]
    payload = "request" if status == "request" else payload_label(operation, status)
    shown = json.loads((schemas_dir() / path).read_text("utf-8"))
    rendered = dict(_leaves(documented_body(schema)))
    differing = {at for at, value in _leaves(shown) if rendered.get(at, ...) != value}
    differing |= set(rendered) - dict(_leaves(shown)).keys()
    decided = [where for d in load_decisions().decisions for place, where in d.places(operation)
               if place == payload]
    undecided = sorted(at for at in differing
                       if not any(re.sub(r"/[0-9]+(?=/|$)", "/*", at).startswith(where)
                                  for where in decided))
    assert undecided == []
    if not decided:
        assert shown == documented_body(schema)


@pytest.mark.parametrize(("argv", "words"), [
    pytest.param(["{tmp}/missing.json"], ["missing.json", "does not exist"], id="missing-file"),
    pytest.param(["{vendor}/invoices.json", "--operation", "create-invoice"],
                 ["No operation 'create-invoice'", "create-invoice-from-estimate"],
                 id="operation-not-in-the-manifest"),
    pytest.param(["{lint}/vendor.json", "--operation", "get-invoice"],
                 ["vendor.json has no operation get-invoice (GET /invoices/{invoiceId})"],
                 id="operation-not-in-the-vendor-file"),
    pytest.param(["{vendor}/history/invoices-2025-08-13.json"],
                 ["../common/common-schemas.json", "--ref"], id="unresolved-external-ref"),
])
def test_bad_input_is_one_sentence_and_exit_2(tmp_path: Path, vendor_dir: Path, argv: list[str],
                                              words: list[str]) -> None:
    code, out, err = lint_cli(*[part.format(tmp=tmp_path, vendor=vendor_dir, lint=LINT)
                                for part in argv])
    assert (code, out) == (2, "")
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    assert all(word in err for word in words), err


def test_a_vendor_file_without_some_operations_lints_the_others() -> None:
    code, out, _ = lint_cli(str(LINT / "vendor.json"), "--format", "json")
    report = json.loads(out)
    assert {f["operation"] for f in report["findings"]} == {OPERATION}
    absent = [note for note in report["notes"] if note.endswith("not linted.")]
    assert len(absent) == len(OPERATIONS) - 1
    assert code == 1  # its invented contradictions have no recorded decision


def test_the_openapi_document_carries_each_shipped_success_example() -> None:
    document = openapi_doc.build()
    for operation in pinned().manifest:
        media = document["paths"][operation.path][operation.method.lower()]["responses"][
            str(operation.success.status)]["content"]["application/json"]
        assert ("example" in media) == (operation.success.example is not None), operation.id
