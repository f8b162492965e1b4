"""The contract diff on synthetic pairs: one case per rule, each with exactly its findings.

Schema pairs live in tests/data/diff/cases/ (one file per case: old, new, the side that reads the
body, and the findings expected); operation pairs are small OpenAPI documents in
tests/data/diff/openapi/, listed with their expected findings in tests/data/diff/operations.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.errors import UsageError
from ghl_contract.openapi_source import CYCLE_KEY, inline, load_document
from ghl_contract.rules import RULES
from ghl_contract.specdiff import RULE_CODES, diff_operations, diff_schemas, load_operation

DATA = Path(__file__).parent / "data" / "diff"
CASES = sorted((DATA / "cases").glob("*.json"))
OPERATIONS: list[dict[str, Any]] = json.loads((DATA / "operations.json").read_text("utf-8"))


def _no_reference(ref: str, base: str) -> tuple[Any, str]:
    raise AssertionError(f"a synthetic case has a reference: {ref}")


def _load_case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def _summary(findings: list[Any]) -> list[dict[str, str]]:
    return [{"pointer": f.pointer, "rule": f.rule, "severity": f.severity.value} for f in findings]


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_schema_case(path: Path) -> None:
    case = _load_case(path)
    # Through the same normalisation as a loaded document: allOf merged, nullable folded.
    old = inline(case["old"], "urn:case:old", _no_reference)
    new = inline(case["new"], "urn:case:new", _no_reference)
    findings = diff_schemas(old, new, case["side"])
    assert _summary(findings) == case["findings"], case["description"]
    for finding in findings:
        assert finding.source == case["side"]
        assert finding.message.endswith(".")


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_schema_case_reversed_is_not_silent(path: Path) -> None:
    """Swapping old and new finds a change wherever the case found one (no one-way blind spot)."""
    case = _load_case(path)
    old = inline(case["old"], "urn:case:old", _no_reference)
    new = inline(case["new"], "urn:case:new", _no_reference)
    assert bool(diff_schemas(new, old, case["side"])) == bool(case["findings"])


@pytest.mark.parametrize("case", OPERATIONS, ids=[case["id"] for case in OPERATIONS])
def test_operation_case(case: dict[str, Any]) -> None:
    old = load_operation(str(DATA / "openapi" / case["old"]), case["operation"])
    new = load_operation(str(DATA / "openapi" / case["new"]), case["operation"])
    report = diff_operations(old, new)
    found = [{"source": f.source, "pointer": f.pointer, "rule": f.rule,
              "severity": f.severity.value} for f in report.findings]
    assert found == case["findings"], case["description"]
    assert report.exit_code() == case["exit"]


def test_every_diff_rule_has_a_synthetic_case() -> None:
    covered = {finding["rule"] for path in CASES for finding in _load_case(path)["findings"]}
    covered |= {finding["rule"] for case in OPERATIONS for finding in case["findings"]}
    assert sorted(set(RULE_CODES) - covered) == []
    assert covered <= set(RULES)


def test_each_rule_carries_the_severity_of_the_rule_table() -> None:
    for path in CASES:
        for finding in _load_case(path)["findings"]:
            assert RULES[finding["rule"]].severity.value == finding["severity"], path.stem


def test_the_external_reference_falls_back_to_the_basename_beside_the_document() -> None:
    operation = load_document(DATA / "openapi" / "base.json").operation("copy-thing")
    errors = json.loads((DATA / "openapi" / "errors.json").read_text("utf-8"))
    assert operation.responses["422"] == errors["components"]["schemas"]["UnprocessableDTO"]


def test_an_explicit_mapping_wins_over_the_fallback() -> None:
    mapping = {"../common/errors.json": (DATA / "openapi" / "errors-v2.json").resolve()}
    operation = load_document(DATA / "openapi" / "base.json", mapping).operation("copy-thing")
    assert operation.responses["422"]["properties"]["message"] == {"type": "string"}


def test_a_recursive_schema_is_expanded_once() -> None:
    operation = load_document(DATA / "openapi" / "recursive.json").operation("copy-thing")
    children = operation.responses["200"]["properties"]["thing"]["properties"]["children"]
    assert children["items"] == {CYCLE_KEY: "#/components/schemas/ThingDto"}


@pytest.mark.parametrize(("name", "words"), [
    pytest.param("unresolved-ref.json", ["'../nowhere/missing.json#/components/schemas/",
                                         "unresolved-ref.json", "--ref ../nowhere/missing.json="],
                 id="missing-external-file"),
    pytest.param("dangling-pointer.json", ["'#/components/schemas/NoSuchDto'",
                                           "dangling-pointer.json", "nothing at"],
                 id="pointer-to-nowhere"),
    pytest.param("duplicate-id.json",
                 ["'copy-thing' names 2 operations", "POST /things/{thingId}/copy",
                  "POST /things/{thingId}/move"], id="duplicate-operation-id"),
])
def test_a_document_that_cannot_be_resolved_is_one_sentence(name: str, words: list[str]) -> None:
    with pytest.raises(UsageError) as raised:
        load_document(DATA / "openapi" / name).operation("copy-thing")
    message = str(raised.value)
    assert all(word in message for word in words), message
    assert message.endswith(".")
    assert "\n" not in message
