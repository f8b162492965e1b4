"""schemas/patches/observed.json: an RFC 6902 patch that turns the documented contract into what
the live API was seen to do. Applied with the `jsonpatch` library, it leaves valid schemas; bodies
shaped as the live API answered pass the patched contract and fail the documented one exactly at
the places the patch changes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
from jsonschema import Draft202012Validator

from ghl_contract.judge import check_payload
from ghl_contract.registry import ContractRegistry, pinned
from ghl_contract.resources import schemas_dir

PATCHES = schemas_dir() / "patches"
OBSERVED = Path(__file__).resolve().parent / "data" / "observed"
ESTIMATE_GAPS = [  # (rule, pointer) of the documented contract on an estimate as seen live
    ("missing-required", "/automaticTaxesEnabled"),
    ("missing-required", "/contactDetails/phoneNo"),
    ("missing-required", "/lastVisitedAt"),
    ("missing-required", "/meta"),
    ("missing-required", "/sentTo"),
    ("missing-required", "/traceId"),
    ("property-added", "/configuration"),
]


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def observed() -> dict[str, Any]:
    data: dict[str, Any] = _read(PATCHES / "observed.json")
    return data


@pytest.fixture(scope="module")
def patched(observed: dict[str, Any]) -> ContractRegistry:
    """The packaged contract with the observed patch applied, as the product loads a contract."""
    documents = jsonpatch.apply_patch(copy.deepcopy(dict(pinned().documents)), observed["patch"])
    return ContractRegistry(pinned().directory, documents)


def _findings(payload: Any, operation_id: str, kind: str,
              registry: ContractRegistry) -> list[tuple[str, str]]:
    operation = registry.manifest.get(operation_id)
    return sorted((f.rule, f.pointer) for f in check_payload(payload, kind, operation=operation,
                                                              registry=registry))


def test_the_patch_file_follows_its_format(observed: dict[str, Any]) -> None:
    schema = _read(PATCHES / "patch.schema.json")
    Draft202012Validator.check_schema(schema)
    problems = [f"{e.json_path}: {e.message}"
                for e in Draft202012Validator(schema).iter_errors(observed)]
    assert problems == []


def test_every_operation_has_its_reason_and_every_reason_an_operation(
        observed: dict[str, Any]) -> None:
    paths = [operation["path"] for operation in observed["patch"]]
    assert len(set(paths)) == len(paths)
    assert sorted(observed["reasons"]) == sorted(paths)


def test_the_patch_names_only_schemas_of_the_contract(observed: dict[str, Any]) -> None:
    files = {operation["path"].split("/")[1] for operation in observed["patch"]}
    assert sorted(files - set(pinned().documents)) == []


def test_the_patched_schemas_are_valid(patched: ContractRegistry) -> None:
    changed = [name for name in patched.documents
               if patched.documents[name] != pinned().documents[name]]
    assert changed  # the patch changes something
    for name in changed:
        Draft202012Validator.check_schema(patched.documents[name])


def test_the_packaged_contract_is_left_as_it_was(patched: ContractRegistry) -> None:
    assert pinned().documents["estimate.json"]["required"] != patched.documents[
        "estimate.json"]["required"]
    assert "traceId" in pinned().documents["estimate.json"]["required"]


def test_a_created_estimate_as_seen_live_fails_the_documented_contract_where_it_differs(
        patched: ContractRegistry) -> None:
    body = _read(OBSERVED / "create-new-estimate-201.json")
    assert _findings(body, "create-new-estimate", "response", pinned()) == ESTIMATE_GAPS
    assert _findings(body, "create-new-estimate", "response", patched) == []


def test_a_listed_estimate_as_seen_live_fails_the_documented_contract_where_it_differs(
        patched: ContractRegistry) -> None:
    body = _read(OBSERVED / "list-estimates-200.json")
    history = [(rule, f"/estimates/0/estimateActionHistory/{index}/{name}")
               for index in (0, 1)
               for rule, name in (("missing-required", "action"),
                                  ("missing-required", "timestamp"),
                                  ("property-added", "estimateStatus"),
                                  ("property-added", "updatedAt"))]
    expected = sorted([("missing-required", "/traceId"), *history,
                       *((rule, "/estimates/0" + at) for rule, at in ESTIMATE_GAPS)])
    assert _findings(body, "list-estimates", "response", pinned()) == expected
    assert _findings(body, "list-estimates", "response", patched) == []


def test_an_action_history_time_with_a_zone_is_not_the_observed_shape(
        patched: ContractRegistry) -> None:
    body = _read(OBSERVED / "list-estimates-200.json")
    body["estimates"][0]["estimateActionHistory"][0]["updatedAt"] = "2026-08-26T09:12:40.118Z"
    assert _findings(body, "list-estimates", "response", patched) == [
        ("format-changed", "/estimates/0/estimateActionHistory/0/updatedAt")]


def test_the_request_the_live_api_accepted_fits_the_patched_contract_only(
        patched: ContractRegistry) -> None:
    body = _read(OBSERVED / "create-new-estimate-request.json")
    assert _findings(body, "create-new-estimate", "request", pinned()) == [
        ("missing-required", "/contactDetails/phoneNo")]
    assert _findings(body, "create-new-estimate", "request", patched) == []


@pytest.mark.parametrize(("change", "finding"), [
    pytest.param({"op": "remove", "path": "/title"}, ("missing-required", "/title"),
                 id="without-title"),
    pytest.param({"op": "remove", "path": "/issueDate"}, ("missing-required", "/issueDate"),
                 id="without-issue-date"),
    pytest.param({"op": "remove", "path": "/items/0/type"},
                 ("missing-required", "/items/0/type"), id="item-without-type"),
    pytest.param({"op": "replace", "path": "/contactDetails/id", "value": ""},
                 ("constraint-violated", "/contactDetails/id"), id="empty-contact-id"),
])
def test_what_the_live_api_refused_fails_the_patched_contract(
        patched: ContractRegistry, change: dict[str, Any], finding: tuple[str, str]) -> None:
    body = jsonpatch.apply_patch(_read(OBSERVED / "create-new-estimate-request.json"), [change])
    assert _findings(body, "create-new-estimate", "request", patched) == [finding]
