"""The contract diff on synthetic pairs: one case per change, each with exactly its findings.

Schema pairs live in tests/data/diff/cases/ (one file per change: old, new, and the findings when
the value is a request body, which a client writes, and when it is a response body, which a client
reads). Operation pairs live in tests/data/diff/operations/ (one file per change: two small
OpenAPI documents of tests/data/diff/openapi/, or one of them with a JSON Patch applied, the
operations compared, and the findings expected).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding
from ghl_contract.openapi_source import CYCLE_KEY, OpenAPIDocument, inline, load_document
from ghl_contract.rules import RULES
from ghl_contract.specdiff import RULE_CODES, diff_documents, diff_schemas

DATA = Path(__file__).parent / "data" / "diff"
OPENAPI = DATA / "openapi"
CASES = sorted((DATA / "cases").glob("*.json"))
OPERATION_CASES = sorted((DATA / "operations").glob("*.json"))
SIDES = ("request", "response")


def _no_reference(ref: str, base: str) -> tuple[Any, str]:
    raise AssertionError(f"a synthetic case has a reference: {ref}")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _summary(findings: list[Finding]) -> list[dict[str, str]]:
    return [{"pointer": f.pointer, "rule": f.rule, "severity": f.severity.value} for f in findings]


def _schemas(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    # Through the same normalisation as a loaded document: allOf merged, nullable folded.
    return (inline(case["old"], "urn:case:old", _no_reference),
            inline(case["new"], "urn:case:new", _no_reference))


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_case_files_follow_their_schema(path: Path) -> None:
    jsonschema.validate(_load(path), _load(DATA / "case.schema.json"))


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_schema_case(path: Path, side: str) -> None:
    case = _load(path)
    old, new = _schemas(case)
    findings = diff_schemas(old, new, side)  # type: ignore[arg-type]
    assert _summary(findings) == case["findings"][side], case["description"]
    for finding in findings:
        assert finding.source == side
        assert finding.message.endswith(".")


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_schema_case_reversed_is_not_silent(path: Path, side: str) -> None:
    """Swapping old and new finds a change wherever the case found one (no one-way blind spot)."""
    case = _load(path)
    old, new = _schemas(case)
    assert bool(diff_schemas(new, old, side)) == bool(case["findings"][side])  # type: ignore[arg-type]


def apply_changes(document: Any, changes: list[dict[str, Any]]) -> Any:
    """JSON Patch's add, remove and replace on a copy of `document`."""
    document = copy.deepcopy(document)
    for change in changes:
        *parents, last = [part.replace("~1", "/").replace("~0", "~")
                          for part in change["path"].split("/")[1:]]
        target = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            index = len(target) if last == "-" else int(last)
            if change["op"] == "add":
                target.insert(index, copy.deepcopy(change["value"]))
            elif change["op"] == "remove":
                del target[index]
            else:
                target[index] = copy.deepcopy(change["value"])
        else:
            if change["op"] in ("remove", "replace"):
                assert last in target, f"{change['path']} is not in the base"
            if change["op"] == "remove":
                del target[last]
            else:
                target[last] = copy.deepcopy(change["value"])
    return document


def _document(spec: str | dict[str, Any]) -> OpenAPIDocument:
    if isinstance(spec, str):
        return load_document(OPENAPI / spec)
    base = load_document(OPENAPI / spec["from"])
    return OpenAPIDocument(base.path, apply_changes(base.data, spec["change"]))


@pytest.mark.parametrize("path", OPERATION_CASES, ids=[path.stem for path in OPERATION_CASES])
def test_operation_case(path: Path) -> None:
    case = _load(path)
    jsonschema.validate(case, _load(DATA / "operation-case.schema.json"))
    diff = diff_documents(_document(case["old"]), _document(case["new"]),
                          case.get("operations", []))
    found = [{"operation": f.operation, "source": f.source, "pointer": f.pointer, "rule": f.rule,
              "severity": f.severity.value} for f in diff.findings]
    assert found == case["findings"], case["description"]
    assert diff.exit_code() == case["exit"]
    assert all(f.message.endswith(".") for f in diff.findings)


def test_every_diff_rule_has_a_synthetic_case() -> None:
    covered = {finding["rule"] for path in CASES for side in SIDES
               for finding in _load(path)["findings"][side]}
    covered |= {finding["rule"] for path in OPERATION_CASES
                for finding in _load(path)["findings"]}
    assert sorted(set(RULE_CODES) - covered) == []
    assert covered <= set(RULES)


def test_each_case_carries_the_severity_of_the_rule_table() -> None:
    for path in CASES:
        for side in SIDES:
            for finding in _load(path)["findings"][side]:
                assert RULES[finding["rule"]].severity.value == finding["severity"], path.stem
    for path in OPERATION_CASES:
        for finding in _load(path)["findings"]:
            assert RULES[finding["rule"]].severity.value == finding["severity"], path.stem


def test_the_external_reference_falls_back_to_the_basename_beside_the_document() -> None:
    operation = load_document(OPENAPI / "base.json").operation("copy-thing")
    errors = json.loads((OPENAPI / "errors.json").read_text("utf-8"))
    assert operation.responses["422"] == errors["components"]["schemas"]["UnprocessableDTO"]


def test_an_explicit_mapping_wins_over_the_fallback() -> None:
    mapping = {"../common/errors.json": (OPENAPI / "errors-v2.json").resolve()}
    operation = load_document(OPENAPI / "base.json", mapping).operation("copy-thing")
    assert operation.responses["422"]["properties"]["message"] == {"type": "string"}


def test_a_recursive_schema_is_expanded_once() -> None:
    operation = load_document(OPENAPI / "recursive.json").operation("copy-thing")
    children = operation.responses["200"]["properties"]["thing"]["properties"]["children"]
    # ThingDto is reached through CopyThingResponseDto; its children lead one reference back.
    assert children["items"] == {CYCLE_KEY: 1}


def test_parameters_and_security_are_read_with_their_references() -> None:
    operation = load_document(OPENAPI / "api.json").operation("copy-thing")
    assert [(p.location, p.name, p.required) for p in operation.parameters] == [
        ("path", "thingId", True), ("header", "Version", True), ("query", "altId", True),
        ("query", "limit", False)]
    assert operation.security == ({"Location-Access": ("things.write",)},
                                  {"Agency-Access": ("things.write",)})
    listed = load_document(OPENAPI / "api.json").operation("list-things")
    assert listed.security == ({"Location-Access": ()},)  # the document's own, inherited


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
        load_document(OPENAPI / name).operation("copy-thing")
    message = str(raised.value)
    assert all(word in message for word in words), message
    assert message.endswith(".")
    assert "\n" not in message
