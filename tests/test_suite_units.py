"""The suite's parts on their own: shape comparison, the examiner, the plan, the generated cases,
the hand-picked negative cases (data with its own schema) and the run settings it adds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from ghl_contract.errors import UsageError
from ghl_contract.findings import Severity, pointers_overlap
from ghl_contract.judge import check_body, rate_limit_findings
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.store import Store
from ghl_contract.registry import pinned
from ghl_contract.resources import contract_tests_dir
from ghl_contract.settings import RunSettings
from ghl_contract.suite.examine import REJECTED, SUCCESS, Examiner
from ghl_contract.suite.generation import GeneratedCase, invalid_cases, valid_cases
from ghl_contract.suite.shapes import shape_differences
from ghl_contract.transport import Exchange

PRIMARY = pinned().manifest.primary

DATA = contract_tests_dir() / "data"
RATE_HEADERS = {
    "x-ratelimit-limit-daily": "200000", "x-ratelimit-daily-remaining": "199999",
    "x-ratelimit-interval-milliseconds": "10000", "x-ratelimit-max": "100",
    "x-ratelimit-remaining": "99", "content-type": "application/json; charset=utf-8",
}


def _exchange(status: int, body: Any, *, write: bool = True,
              headers: dict[str, str] | None = None) -> Exchange:
    return Exchange(
        method="POST", url="http://127.0.0.1:1/invoices/estimate/est/invoice",
        request_headers={}, request_body=b"{}", status=status,
        response_headers=dict(RATE_HEADERS if headers is None else headers),
        response_body=json.dumps(body).encode(), elapsed=0.01, faults=(), write=write)


# Shapes (--compare-version).

def test_same_shape_with_other_values_is_no_difference(documented_response: dict[str, Any]) -> None:
    other = json.loads(json.dumps(documented_response))
    other["invoice"]["total"] = 10.5 if other["invoice"]["total"] != 10.5 else 11
    other["invoice"]["name"] = "another name"
    assert shape_differences(documented_response, other, base_label="a", other_label="b") == []


def test_each_shape_difference_is_one_finding_at_its_pointer(
        documented_response: dict[str, Any]) -> None:
    other = json.loads(json.dumps(documented_response))
    del other["invoice"]["currency"]
    other["invoice"]["total"] = str(other["invoice"]["total"])
    other["invoice"]["paymentLink"] = "https://example.test/pay"
    found = shape_differences(documented_response, other, base_label="2021-07-28",
                              other_label="v3", source="t")
    assert sorted((f.pointer, f.rule, f.severity) for f in found) == [
        ("/invoice/currency", "version-field-removed", Severity.BREAKING),
        ("/invoice/paymentLink", "version-field-added", Severity.NON_BREAKING),
        ("/invoice/total", "version-type-changed", Severity.BREAKING),
    ]
    assert all(f.source == "t" for f in found)


# The examiner.

@pytest.fixture
def converted() -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(request, estimate id, 200 body): a conversion as the mock's store makes it."""
    location = load_seed().locations[0]
    estimate_id = next(iter(location.estimates))
    request = {"altId": location.location_id, "altType": "location", "markAsInvoiced": True}
    body = json.loads(Store(load_seed()).convert(estimate_id, request, datetime.now(UTC)))
    return request, estimate_id, body


def test_a_consistent_conversion_has_no_finding(
        converted: tuple[dict[str, Any], str, dict[str, Any]]) -> None:
    request, estimate_id, body = converted
    found = Examiner().examine(_exchange(200, body), SUCCESS, operation=PRIMARY,
                                   request=request,
                               path={"estimateId": estimate_id}, source="t")
    assert found == []


def test_a_broken_invariant_is_found_with_its_rule(
        converted: tuple[dict[str, Any], str, dict[str, Any]]) -> None:
    request, estimate_id, body = converted
    body["invoice"]["altId"] = "someone-else"
    [finding] = Examiner().examine(_exchange(200, body), SUCCESS, operation=PRIMARY,
                                   request=request,
                                   path={"estimateId": estimate_id}, source="t")
    assert (finding.rule, finding.pointer, finding.source) == ("alt-id-mismatch", "/invoice/altId",
                                                               "t")


def test_json_under_another_content_type_is_judged_as_check_judges_it(
        converted: tuple[dict[str, Any], str, dict[str, Any]]) -> None:
    request, estimate_id, body = converted
    body["invoice"]["amountDue"] = "0"
    headers = {**RATE_HEADERS, "content-type": "text/plain"}
    exchange = _exchange(200, body, headers=headers)
    found = Examiner().examine(exchange, SUCCESS, operation=PRIMARY, request=request,
                               path={"estimateId": estimate_id}, source="t")
    checked = check_body(exchange.response_body, source="t", status=200,
                         content_type="text/plain", request=request,
                         path={"estimateId": estimate_id}, expect=SUCCESS)
    assert sorted((f.rule, f.pointer) for f in found) == sorted(
        (f.rule, f.pointer) for f in checked) == [
        ("type-changed", "/invoice/amountDue"), ("wrong-content-type", "")]


def test_an_error_answered_where_200_is_documented_is_an_unexpected_status(
        documented_request: dict[str, Any]) -> None:
    body = {"statusCode": 422, "message": ["altId must be a string"], "error": "Unprocessable"}
    [finding] = Examiner().examine(_exchange(422, body), SUCCESS, operation=PRIMARY,
                                   request=documented_request, path={"estimateId": "est"},
                                   source="t")
    assert (finding.rule, finding.pointer, finding.status, finding.source) == (
        "unexpected-status", "", 422, "t")


def test_an_error_body_is_checked_against_its_status(documented_request: dict[str, Any]) -> None:
    body = {"statusCode": 422, "message": "one string", "error": "Unprocessable Entity"}
    [finding] = Examiner().examine(_exchange(422, body), REJECTED, operation=PRIMARY,
                                   request=documented_request, path={"estimateId": "est"},
                                   source="t")
    assert (finding.rule, finding.pointer) == ("type-changed", "/message")


def test_a_reused_invoice_number_is_found(
        converted: tuple[dict[str, Any], str, dict[str, Any]]) -> None:
    request, estimate_id, body = converted
    second = json.loads(json.dumps(body))
    second["invoice"]["_id"] = "another-invoice"
    examine = Examiner().examine
    assert examine(_exchange(200, body), SUCCESS, operation=PRIMARY, request=request,
                   path={"estimateId": estimate_id}, source="t") == []
    [finding] = examine(_exchange(200, second), SUCCESS, operation=PRIMARY, request=request,
                        path={"estimateId": estimate_id}, source="t")
    assert (finding.rule, finding.pointer) == ("invoice-number-reused", "/invoice/invoiceNumber")


def test_missing_rate_limit_headers_are_one_non_breaking_finding() -> None:
    headers = {k: v for k, v in RATE_HEADERS.items() if k != "x-ratelimit-remaining"}
    assert rate_limit_findings(RATE_HEADERS) == []
    [finding] = rate_limit_findings(headers)
    assert (finding.rule, finding.severity, finding.actual) == (
        "rate-limit-headers-missing", Severity.NON_BREAKING, ["X-RateLimit-Remaining"])


# Generated cases.

# Hypothesis' own "default" profile: the suite's profiles are registered by contract sessions only.

def test_generated_valid_cases_are_valid_and_aimed_at_the_run() -> None:
    cases = valid_cases(20, estimate_ids=("e1", "e2"), location_id="loc-1",
                        api_version="2021-07-28", profile="default")
    validator = pinned().validator("request.json")
    assert cases
    for case in cases:
        assert case.estimate_id in ("e1", "e2")
        assert case.body["altId"] == "loc-1"
        assert validator.is_valid(case.body), case.label()


def test_generated_invalid_cases_break_the_request_schema() -> None:
    cases = invalid_cases(20, estimate_ids=("e1",), location_id="loc-1",
                          api_version="2021-07-28", profile="default")
    validator = pinned().validator("request.json")
    assert len(cases) > 5
    for case in cases:
        body = case.body
        if isinstance(body, bytes):
            try:
                body = json.loads(body)
            except ValueError:
                continue  # not JSON at all: invalid by construction
        if body is not None:  # no body at all is invalid too: the body is required
            assert not validator.is_valid(body), case.label()


# The hand-picked negative cases.

def _negative_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (DATA / "negative_requests.json").read_text(encoding="utf-8"))
    return data


def test_negative_cases_follow_their_schema() -> None:
    schema = json.loads((DATA / "negative_requests.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(_negative_data())
    ids = [case["id"] for case in _negative_data()["cases"]]
    assert len(ids) == len(set(ids))


def test_negative_cases_leave_out_each_required_field() -> None:
    required = pinned().schema("request.json")["required"]
    ids = {case["id"] for case in _negative_data()["cases"]}
    assert {f"missing-{name}" for name in required} <= ids


def test_negative_json_bodies_break_the_request_schema() -> None:
    validator = pinned().validator("request.json")
    for case in _negative_data()["cases"]:
        if "body" in case and "inflate" not in case:
            body = json.loads(json.dumps(case["body"]).replace("$location", "loc-1"))
            assert not validator.is_valid(body), case["id"]


# Settings the suite adds.

@pytest.mark.parametrize(("values", "named"), [
    pytest.param({"base_url": "http://127.0.0.1:9", "token": "t0ken-value", "location_id": "l",
                  "estimate_id": "e", "mock_fault": "slow"}, "--mock-fault", id="fault-live"),
    pytest.param({"compare_version": "v3", "api_version": "v3"}, "--compare-version",
                 id="compare-same-version"),
])
def test_contradicting_settings_are_a_usage_error(values: dict[str, str], named: str) -> None:
    with pytest.raises(UsageError, match=named):
        RunSettings.from_values(values, environ={})


@pytest.mark.parametrize(("environ", "sentence"), [
    pytest.param({"GHL_MAX_WRITES": "-1"}, "GHL_MAX_WRITES must be 0 or more, not -1.",
                 id="writes"),
    pytest.param({"GHL_REQUEST_TIMEOUT": "nan"}, "GHL_REQUEST_TIMEOUT 'nan' is not a finite",
                 id="timeout"),
    pytest.param({"GHL_RATE_LIMIT": "5"}, "GHL_RATE_LIMIT '5' is not of the form", id="rate"),
    pytest.param({"GHL_API_VERSION": "a b"}, "GHL_API_VERSION 'a b' has a character",
                 id="version"),
])
def test_a_mistake_in_the_environment_is_named_by_its_variable(environ: dict[str, str],
                                                              sentence: str) -> None:
    with pytest.raises(UsageError, match=re.escape(sentence)):
        RunSettings.from_values({}, environ=environ)


def test_a_token_left_in_the_environment_does_not_stop_a_mock_run() -> None:
    # Only a live run sends it; GHL_TOKEN may stay set for another job.
    assert RunSettings.from_values({}, environ={"GHL_TOKEN": "not a token"}).live is False
    with pytest.raises(UsageError, match="GHL_TOKEN is not a Bearer token"):
        RunSettings.from_values({"base_url": "http://127.0.0.1:9"}, environ={
            "GHL_TOKEN": "not a token", "GHL_LOCATION_ID": "l", "GHL_ESTIMATE_ID": "e"})


def test_suite_settings_come_from_the_environment() -> None:
    settings = RunSettings.from_values({}, environ={
        "GHL_COMPARE_VERSION": "v3", "GHL_MOCK_DRIFT": "changed-type",
        "GHL_OTHER_ESTIMATE_ID": "est-2"})
    assert (settings.compare_version, settings.mock_drift, settings.other_estimate_id) == (
        "v3", "changed-type", "est-2")


@pytest.mark.parametrize(("at", "pattern", "overlap"), [
    ("/invoice/invoiceItems/0/amount", "/invoice/invoiceItems/*/amount", True),  # the field
    ("/invoice/invoiceItems/0/amount/x", "/invoice/invoiceItems/*/amount", True),  # inside it
    ("/invoice/invoiceItems", "/invoice/invoiceItems/*/amount", True),  # its parent changed
    ("/invoice", "/invoice/invoiceItems/*/amount", True),
    ("/invoice/invoiceItems/0/name", "/invoice/invoiceItems/*/amount", False),  # a sibling
    ("/invoice/total", "/invoice/invoiceItems/*/amount", False),
    ("/invoice/invoiceItems/x/amount", "/invoice/invoiceItems/*/amount", False),  # not an index
])
def test_a_change_at_a_field_or_a_parent_reaches_an_invariant(at: str, pattern: str,
                                                              overlap: bool) -> None:
    assert pointers_overlap(at, pattern) is overlap


def test_a_generated_body_is_labelled_without_control_characters() -> None:
    label = GeneratedCase("e1", b"\x00{\x1b[31m", "random bytes").label()
    assert label == "random bytes: estimate e1, body \\x00{\\x1b[31m"


# What a run keeps from loading.

def test_httpx_loads_without_its_command_line_client_which_still_runs() -> None:
    script = ("import sys\n"
              "from ghl_contract.suite.imports import without_httpx_cli\n"
              "without_httpx_cli()\n"
              "import httpx\n"
              "print('loaded:', [m for m in ('click', 'rich') if m in sys.modules])\n"
              "httpx.main(['--help'])\n")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("loaded: []\n")
    assert "Usage: httpx" in completed.stdout
