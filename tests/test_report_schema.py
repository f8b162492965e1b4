"""drift-report.json has a JSON Schema in the package: real reports of a run, a check, a diff and
lint-vendor validate against it, and a document that departs from it does not."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ghl_contract import reporters
from ghl_contract.baseline import SCHEMA_PATH as BASELINE_SCHEMA
from ghl_contract.cli import run
from ghl_contract.reporters.json import SCHEMA_PATH, schema_problem
from ghl_contract.suite.testing import run_suite
from report_samples import run_report

SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
INPUTS = Path(__file__).resolve().parent / "data" / "check" / "inputs"


def _errors(document: Any) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in VALIDATOR.iter_errors(document)]


def _cli(*argv: str) -> dict[str, Any]:
    stdout, stderr = io.StringIO(), io.StringIO()
    run([*argv, "--format", "json"], stdout, stderr)
    data: dict[str, Any] = json.loads(stdout.getvalue())
    return data


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"].endswith("/drift-report.schema.json")


def test_the_baseline_entry_is_the_same_in_both_schemas() -> None:
    # the drift report's schema is self-contained: it repeats the entry rather than refer to it
    baseline = json.loads(BASELINE_SCHEMA.read_text(encoding="utf-8"))
    ours = dict(SCHEMA["$defs"]["baselineEntry"])
    ours.pop("description")
    theirs = dict(baseline["$defs"]["entry"])
    theirs.pop("description")
    assert ours == theirs


def test_a_run_report_validates(tmp_path: Path) -> None:
    suite = run_suite("--max-examples", "3", "--hypothesis-profile", "ci", "--mock-drift",
                      "changed-type", report_dir=tmp_path / "reports")
    assert suite.code == 1, suite.output
    report = suite.report()
    assert report["findings"]
    assert report["created"]
    assert report["skipped"]
    assert _errors(report) == []


def test_a_check_report_with_a_baseline_validates(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"version": 1, "entries": [
        {"rule": "missing-required", "pointer": "/altId", "reason": "Old client."},
        {"rule": "server-error", "pointer": "", "until": "2020-01-01"},
        {"rule": "property-added", "pointer": "/nowhere"}]}), encoding="utf-8")
    report = _cli("check", str(INPUTS / "recorded.har"), "--baseline", str(baseline))
    assert report["findings"]
    assert report["baseline"]["acknowledged"]
    assert report["baseline"]["resolved"]
    assert report["baseline"]["expired"]
    assert _errors(report) == []


def test_check_diff_and_lint_vendor_reports_validate(vendor_dir: Path) -> None:
    reports = [
        _cli("check", str(INPUTS / "requests.ndjson"), "--kind", "request"),
        _cli("diff", "pinned", str(vendor_dir / "invoices.json")),
        _cli("lint-vendor", str(vendor_dir / "invoices.json")),
    ]
    assert reports[0]["problems"]
    assert reports[1]["findings"]
    for report in reports:
        assert _errors(report) == []


def test_the_written_sample_of_every_field_validates() -> None:
    stream = io.StringIO()
    reporters.write("json", run_report(), stream)
    assert _errors(json.loads(stream.getvalue())) == []


def _sample() -> dict[str, Any]:
    stream = io.StringIO()
    reporters.write("json", run_report(), stream)
    data: dict[str, Any] = json.loads(stream.getvalue())
    return data


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    data.pop(key)
    return data


@pytest.mark.parametrize("change", [
    pytest.param(lambda d: _without(d, "tool"), id="no-tool"),
    pytest.param(lambda d: _without(d, "started"), id="run-without-its-start"),
    pytest.param(lambda d: {**d, "extra": 1}, id="unknown-field"),
    pytest.param(lambda d: {**d, "started": "2026-12-03 08:15:02"}, id="time-not-utc-iso"),
    pytest.param(lambda d: {**d, "findings": [{**d["findings"][0], "severity": "fatal"}]},
                 id="unknown-severity"),
    pytest.param(lambda d: {**d, "created": [{**d["created"][0], "cleanup": "forgotten"}]},
                 id="unknown-cleanup"),
    pytest.param(lambda d: {**d, "groups": [{**d["groups"][0], "occurrences": 0}]},
                 id="empty-group"),
])
def test_a_document_that_departs_from_the_format_is_refused(change: Any) -> None:
    changed = change(copy.deepcopy(_sample()))
    assert _errors(changed)
    assert schema_problem(changed) is not None  # the package's own check agrees
