"""One change, one finding: every rule `check` reports, driven by tests/data/check/*.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.invariants import reads_of
from ghl_contract.judge import check_body, check_payload
from ghl_contract.registry import ContractRegistry, pinned
from ghl_contract.resources import example_path
from ghl_contract.rules import RULES
from ghl_contract.schema_findings import RULES as SCHEMA_RULES

DATA = Path(__file__).resolve().parent / "data" / "check"
RULE_DATA = json.loads((DATA / "rules.json").read_text(encoding="utf-8"))
COMPOSITE = json.loads((DATA / "composite.json").read_text(encoding="utf-8"))
HAR = json.loads((DATA / "har.json").read_text(encoding="utf-8"))


def _parts(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _value(op: dict[str, Any]) -> Any:
    """The operation's value, wrapped in `nest` arrays when it says so."""
    value = copy.deepcopy(op.get("value"))
    for _ in range(op.get("nest", 0)):
        value = [value]
    return value


def apply_changes(document: Any, operations: list[dict[str, Any]]) -> Any:
    """JSON Patch's add, remove and replace on a copy of `document`."""
    document = copy.deepcopy(document)
    for op in operations:
        if op["path"] == "":
            assert op["op"] == "replace", op
            document = _value(op)
            continue
        *parents, last = _parts(op["path"])
        target = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            index = len(target) if last == "-" else int(last)
            if op["op"] == "add":
                target.insert(index, _value(op))
            elif op["op"] == "remove":
                del target[index]
            else:
                target[index] = _value(op)
        else:
            if op["op"] in ("remove", "replace"):
                assert last in target, f"{op['path']} is not in the base"
            if op["op"] == "remove":
                del target[last]
            else:
                target[last] = _value(op)
    return document


def _base(name: str) -> Any:
    if name in RULE_DATA["bases"]:
        return RULE_DATA["bases"][name]
    example = "response-200" if name == "response" else name
    return json.loads(example_path(example).read_text(encoding="utf-8"))


def _seen(findings: list[Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{key: getattr(f, key) for key in keys} for f in findings]


def _wanted(expected: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{key: e[key] for key in keys} for e in expected]


KEYS = ("pointer", "rule", "severity")


@pytest.mark.parametrize("case", RULE_DATA["cases"], ids=[c["id"] for c in RULE_DATA["cases"]])
def test_one_change_yields_its_findings(case: dict[str, Any]) -> None:
    payload = apply_changes(_base(case["base"]), case["change"])
    found = check_payload(payload, case["kind"], source="case", status=case.get("status"))
    assert _seen(found, KEYS) == _wanted(case["findings"], KEYS)
    for finding in found:
        assert finding.message.endswith("."), finding.message
        assert finding.source == "case"
        assert finding.status == case.get("status")


@pytest.mark.parametrize("case", RULE_DATA["clean"], ids=[c["id"] for c in RULE_DATA["clean"]])
def test_documented_payloads_and_allowed_variants_yield_nothing(case: dict[str, Any]) -> None:
    payload = apply_changes(_base(case["base"]), case["change"])
    assert check_payload(payload, case["kind"], status=case.get("status")) == []


@pytest.fixture(scope="module")
def composite_contract() -> ContractRegistry:
    return ContractRegistry.load(DATA / "composite-contract")


@pytest.mark.parametrize("case", COMPOSITE["cases"], ids=[c["id"] for c in COMPOSITE["cases"]])
def test_alternatives_do_not_cascade(case: dict[str, Any],
                                     composite_contract: ContractRegistry) -> None:
    payload = apply_changes(COMPOSITE["base"], case["change"])
    found = check_payload(payload, "response", registry=composite_contract)
    assert _seen(found, KEYS) == _wanted(case["findings"], KEYS)
    for finding, wanted in zip(found, case["findings"], strict=True):
        if "expected" in wanted:
            assert finding.expected == wanted["expected"]


@pytest.mark.parametrize("case", COMPOSITE["clean"], ids=[c["id"] for c in COMPOSITE["clean"]])
def test_alternatives_accept_each_documented_shape(case: dict[str, Any],
                                                   composite_contract: ContractRegistry) -> None:
    payload = apply_changes(COMPOSITE["base"], case["change"])
    assert check_payload(payload, "response", registry=composite_contract) == []


def test_every_rule_check_can_report_is_exercised_by_the_data() -> None:
    exercised = {f["rule"] for case in RULE_DATA["cases"] for f in case["findings"]}
    exercised |= {f["rule"] for case in COMPOSITE["cases"] for f in case["findings"]}
    exercised |= {f["rule"] for f in HAR["findings"]}
    exercised |= {f["rule"] for case in BODIES["cases"] for f in case["findings"]}
    body_rules = {"server-error", "unexpected-status", "not-json", "truncated-json",
                  "wrong-content-type", "empty-body"}
    invariants = set(reads_of(pinned().manifest.primary))
    reportable = set(SCHEMA_RULES) | invariants | body_rules
    assert reportable - exercised == set()
    assert exercised - set(RULES) == set()  # every rule in the data is in the one rule table



BODIES = json.loads((DATA / "bodies.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", BODIES["cases"], ids=[c["id"] for c in BODIES["cases"]])
def test_a_body_as_it_travelled(case: dict[str, Any]) -> None:
    found = check_body(case["body"], case["kind"], source="body", status=case["status"],
                       content_type=case["content_type"])
    assert _seen(found, KEYS) == _wanted(case["findings"], KEYS)
    assert {f.status for f in found} == {case["status"]}


@pytest.mark.parametrize("case", BODIES["clean"], ids=[c["id"] for c in BODIES["clean"]])
def test_a_body_that_holds_the_contract(case: dict[str, Any]) -> None:
    assert check_body(case["body"], case["kind"], status=case["status"],
                      content_type=case["content_type"]) == []
