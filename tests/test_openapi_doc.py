"""The OpenAPI 3.1 document built from the contract: valid, loadable by schemathesis, printable."""

from __future__ import annotations

import copy
import datetime
import io
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ghl_contract import openapi_doc
from ghl_contract.cli import run
from ghl_contract.findings import pointer
from ghl_contract.registry import pinned, walk_refs
from ghl_contract.resources import example_path
from ghl_contract.settings import LIVE_BASE_URL

OPERATION = "create-invoice-from-estimate"
STATUSES = ["200", "400", "401", "403", "404", "422", "429"]
DOC_URI = "urn:ghl-contract:openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_doc.build()


@pytest.fixture(scope="module")
def operation(document: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_dict(document).find_operation_by_id(OPERATION)


def _documented(name: str) -> Any:
    return json.loads(example_path(name).read_text(encoding="utf-8"))


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_document_describes_the_operation(document: dict[str, Any]) -> None:
    post = document["paths"]["/invoices/estimate/{estimateId}/invoice"]["post"]
    parameters = {(p["in"], p["name"]): p for p in post["parameters"]}
    assert post["operationId"] == OPERATION
    assert sorted(post["responses"]) == STATUSES
    assert parameters[("header", "Version")]["schema"]["enum"] == ["2021-07-28", "v3"]
    assert parameters[("path", "estimateId")]["required"] is True
    bearer = document["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert post["security"] == [{"bearer": ["invoices/estimate.write"]}]
    assert post["requestBody"]["content"]["application/json"]["example"] == _documented("request")
    assert post["responses"]["200"]["content"]["application/json"]["example"] == _documented(
        "response-200")
    assert document["servers"] == [{"url": LIVE_BASE_URL}]


def test_every_schema_file_is_a_component(document: dict[str, Any]) -> None:
    expected = sorted(name.removesuffix(".json") for name in pinned().documents)
    assert sorted(document["components"]["schemas"]) == expected


def test_components_carry_no_base_uri(document: dict[str, Any]) -> None:
    # An $id inside a component would make its local references resolve elsewhere.
    leftovers = [name for name, schema in document["components"]["schemas"].items()
                 if {"$id", "$schema"} & set(schema)]
    assert leftovers == []


def test_every_reference_resolves_inside_the_document(document: dict[str, Any]) -> None:
    resolver = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(document)).resolver(
        base_uri=DOC_URI)
    refs = sorted(set(walk_refs(document)))
    assert refs
    assert [ref for ref in refs if not ref.startswith("#/components/schemas/")] == []
    for ref in refs:
        assert isinstance(resolver.lookup(ref).contents, dict), ref


def _validator(document: dict[str, Any], component: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{DOC_URI}#/components/schemas/{component}"},
                                registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_documented_response_fits_the_document_alone(document: dict[str, Any]) -> None:
    validator = _validator(document, "response-200")
    assert [e.message for e in validator.iter_errors(_documented("response-200"))] == []
    drifted = _documented("response-200")
    drifted["invoice"]["invoiceItems"][0] = "Macbook Pro"
    assert [pointer(e.absolute_path) for e in validator.iter_errors(drifted)] == [
        "/invoice/invoiceItems/0"]


def test_schemathesis_finds_the_operation(operation: Any) -> None:
    assert (operation.method.upper(), operation.path) == (
        "POST", "/invoices/estimate/{estimateId}/invoice")


def test_schemathesis_generates_requests_the_contract_accepts(operation: Any) -> None:
    body = pinned().validator("request.json")
    path = pinned().parameters_validator(pinned().manifest.primary, "path")
    seen: list[Any] = []

    @settings(max_examples=25, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        seen.append(case)
        assert body.is_valid(case.body), case.body
        assert case.headers["Version"] in ("2021-07-28", "v3")
        assert path.is_valid(case.path_parameters), case.path_parameters

    check()
    assert seen


def _response(status: int, body: Any) -> httpx.Response:
    request = httpx.Request("POST", f"{LIVE_BASE_URL}/invoices/estimate/e1/invoice")
    response = httpx.Response(status, json=body, request=request)
    response.read()
    response.elapsed = datetime.timedelta(0)
    return response


def test_schemathesis_checks_responses_against_the_contract(operation: Any) -> None:
    documented = _documented("response-200")
    enabled_without_schedule = copy.deepcopy(documented)
    enabled_without_schedule["estimate"]["frequencySettings"] = {"enabled": True}
    wrong_date = copy.deepcopy(documented)
    wrong_date["invoice"]["dueDate"] = "01/01/2023"
    unprocessable = {"statusCode": 422, "message": ["altId must be a string"],
                     "error": "Unprocessable Entity"}
    assert operation.is_valid_response(_response(200, documented))
    assert operation.is_valid_response(_response(422, unprocessable))
    assert not operation.is_valid_response(_response(200, enabled_without_schedule))
    assert not operation.is_valid_response(_response(200, wrong_date))
    assert not operation.is_valid_response(_response(422, {**unprocessable, "message": "x"}))


def _cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["openapi", *argv], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_cli_prints_the_document_as_json(document: dict[str, Any]) -> None:
    code, out, err = _cli()
    assert (code, err) == (0, "")
    assert json.loads(out) == document


def test_cli_prints_yaml(document: dict[str, Any]) -> None:
    code, out, err = _cli("--format", "yaml")
    assert (code, err) == (0, "")
    assert yaml.safe_load(out) == document


def test_cli_sets_the_server() -> None:
    code, out, _ = _cli("--server", "http://127.0.0.1:8080/")
    assert code == 0
    assert json.loads(out)["servers"] == [{"url": "http://127.0.0.1:8080"}]


def test_cli_rejects_a_server_that_is_not_a_url() -> None:
    code, out, err = _cli("--server", "services.leadconnectorhq.com")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "--server" in err


def test_cli_yaml_without_pyyaml_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now raises ImportError
    code, out, err = _cli("--format", "yaml")
    assert (code, out) == (2, "")
    assert err.startswith("error: --format yaml needs PyYAML")
    assert err.count("\n") == 1


def test_cli_rejects_an_unknown_format() -> None:
    code, out, err = _cli("--format", "xml")
    assert (code, out) == (2, "")
    assert "--format" in err


def test_the_printed_document_diffs_clean_against_the_pinned_contract(
        document: dict[str, Any], tmp_path: Path) -> None:
    printed = tmp_path / "openapi.json"
    printed.write_text(json.dumps(document), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert run(["diff", "pinned", str(printed), "--format", "json"], out, err) == 0, err.getvalue()
    assert json.loads(out.getvalue())["findings"] == []
