"""`ghl-contract baseline` and `--baseline` on check and run: a drift that fails, acknowledged in a
baseline, passes; a new drift still fails and is the only finding named; entries the target no
longer gives are reported resolved and fail with --strict-baseline."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.cli import run
from ghl_contract.suite.testing import SuiteRun, run_suite

INPUTS = Path(__file__).resolve().parent / "data" / "check" / "inputs"
HAR = str(INPUTS / "recorded.har")
QUICK = ("--max-examples", "3", "--hypothesis-profile", "ci")
OPERATION = "create-invoice-from-estimate"


def cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(list(argv), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def _check_report(tmp_path: Path, *argv: str) -> Path:
    code, out, _ = cli("check", *argv, "--format", "json")
    assert code == 1
    path = tmp_path / "check-report.json"
    path.write_text(out, encoding="utf-8")
    return path


def _entries(path: Path) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return list(data["entries"])


def test_a_checks_findings_acknowledged_by_its_baseline_pass(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    code, out, err = cli("baseline", str(_check_report(tmp_path, HAR)), "-o", str(baseline))
    assert (code, err) == (0, "")
    assert out == f"{baseline}: 15 entries for 15 findings.\n"
    code, out, _ = cli("check", HAR, "--baseline", str(baseline), "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert report["findings"] == []
    assert report["summary"]["acknowledged"] == 15
    assert report["baseline"]["resolved"] == []
    assert cli("check", HAR, "--baseline", str(baseline), "--strict-baseline")[0] == 0


def test_a_finding_the_baseline_does_not_list_still_fails(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    cli("baseline", str(_check_report(tmp_path, HAR)), "-o", str(baseline))
    requests = str(INPUTS / "requests.ndjson")
    code, out, _ = cli("check", requests, "--kind", "request", "--baseline", str(baseline),
                       "--format", "json")
    report = json.loads(out)
    assert code == 2  # requests.ndjson has a line that is not JSON
    # /altId is in the baseline (the HAR has one request without it); the others are new
    assert {f["pointer"] for f in report["findings"]} == {"/locationId", "/markAsInvoiced",
                                                          "/version"}
    assert [a["finding"]["pointer"] for a in report["baseline"]["acknowledged"]] == ["/altId"]


def test_an_entry_that_no_longer_occurs_fails_a_strict_baseline(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"version": 1, "entries": [
        {"rule": "property-added", "pointer": "/nowhere", "reason": "Fixed since?"}]}),
        encoding="utf-8")
    payload = tmp_path / "response.json"
    payload.write_text((Path(__file__).resolve().parents[1] / "schemas" / "examples" /
                        "response-200.json").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = cli("check", str(payload), "--baseline", str(baseline))
    assert code == 0
    assert "property-added at /nowhere: Fixed since?" in out
    assert "0 acknowledged by the baseline, 1 resolved baseline entry." in out
    assert cli("check", str(payload), "--baseline", str(baseline), "--strict-baseline")[0] == 1


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(("--strict-baseline",), "error: --strict-baseline needs --baseline FILE.",
                 id="strict-without-baseline"),
    pytest.param(("--baseline", "missing.json"),
                 "error: The baseline missing.json cannot be read: No such file or directory.",
                 id="missing-baseline"),
])
def test_check_refuses_a_baseline_mistake_before_checking(argv: tuple[str, ...],
                                                          message: str) -> None:
    code, out, err = cli("check", HAR, *argv)
    assert (code, out) == (2, "")
    assert err.splitlines() == [message]


def test_the_baseline_goes_to_standard_output_and_merges_reports(tmp_path: Path) -> None:
    har = _check_report(tmp_path, HAR)
    requests = tmp_path / "requests-report.json"
    _, out, _ = cli("check", str(INPUTS / "requests.ndjson"), "--kind", "request", "--format",
                    "json")
    requests.write_text(out, encoding="utf-8")
    code, text, err = cli("baseline", str(har), str(requests))
    assert code == 0
    assert err == (f"note: {requests} lists 1 input problem; what could not be read is not in "
                   "the baseline.\n")
    entries = json.loads(text)["entries"]
    assert {"operation": OPERATION, "rule": "type-changed", "pointer": "/markAsInvoiced"} \
        in entries
    assert {"operation": OPERATION, "rule": "status-not-draft", "pointer": "/invoice/status"} \
        in entries
    assert entries == sorted(entries, key=lambda e: (e.get("operation", ""), e["rule"],
                                                     e["pointer"]))


def test_rewriting_a_baseline_keeps_the_reasons_a_reviewer_wrote(tmp_path: Path) -> None:
    report = _check_report(tmp_path, HAR)
    baseline = tmp_path / "baseline.json"
    cli("baseline", str(report), "-o", str(baseline))
    data = json.loads(baseline.read_text(encoding="utf-8"))
    data["entries"][0]["reason"] = "Accepted by the API team."
    data["entries"][0]["until"] = "2099-12-31"
    data["entries"].append({"operation": OPERATION, "rule": "property-added", "pointer": "/gone",
                            "reason": "Old."})
    baseline.write_text(json.dumps(data), encoding="utf-8")
    assert cli("baseline", str(report), "-o", str(baseline))[0] == 0
    rewritten = _entries(baseline)
    assert rewritten[0]["reason"] == "Accepted by the API team."
    assert rewritten[0]["until"] == "2099-12-31"
    assert all(entry["pointer"] != "/gone" for entry in rewritten)
    assert len(rewritten) == 15


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(None, "cannot be read: No such file or directory.", id="missing"),
    pytest.param("[1, 2", "is not JSON", id="not-json"),
    pytest.param('{"findings": []}', "is not a drift report of ghl-contract: at (the whole "
                 "document), \"tool\" is a required property.", id="not-a-drift-report"),
])
def test_a_report_that_cannot_be_read_is_one_sentence(tmp_path: Path, content: str | None,
                                                      message: str) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = cli("baseline", str(path), "-o", str(tmp_path / "baseline.json"))
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("error: ")
    assert message in line
    assert not (tmp_path / "baseline.json").exists()


# The run, end to end (child processes): issue 14's acceptance.

def _run(tmp_path: Path, name: str, *argv: str) -> SuiteRun:
    # the conversions of the documented request: where both drifts show, at a fifth of the cost
    return run_suite(*QUICK, "-k", "documented_request_is_converted", *argv,
                     report_dir=tmp_path / name)


def test_a_run_lives_with_its_baseline(tmp_path: Path) -> None:
    drifted = _run(tmp_path, "drifted", "--mock-drift", "changed-type")
    assert drifted.code == 1, drifted.output
    baseline = tmp_path / "baseline.json"
    assert cli("baseline", str(drifted.report_dir / "drift-report.json"), "-o",
               str(baseline))[0] == 0
    assert _entries(baseline) == [{"operation": OPERATION, "rule": "type-changed",
                                   "pointer": "/invoice/amountDue"}]

    again = _run(tmp_path, "again", "--mock-drift", "changed-type", "--baseline", str(baseline))
    assert again.code == 0, again.output
    report = again.report()
    assert report["findings"] == []
    assert report["summary"]["acknowledged"] == drifted.report()["summary"]["findings"]
    assert "acknowledged by the baseline:" in again.stdout

    other = _run(tmp_path, "other", "--mock-drift", "null-value", "--baseline", str(baseline))
    assert other.code == 1, other.output
    assert other.rules() == {("null-not-allowed", "/invoice/currency")}
    assert other.report()["baseline"]["resolved"] == _entries(baseline)

    clean = _run(tmp_path, "clean", "--baseline", str(baseline))
    assert clean.code == 0, clean.output
    assert clean.report()["baseline"]["resolved"] == _entries(baseline)
    assert "resolved baseline entries (remove them):" in clean.stdout
    strict = _run(tmp_path, "strict", "--baseline", str(baseline), "--strict-baseline")
    assert strict.code == 1, strict.output
    assert "--strict-baseline" in strict.stdout


def test_a_run_with_a_bad_baseline_stops_before_any_request(tmp_path: Path) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text('{"version": 1, "entries": [{"rule": "x"}]}', encoding="utf-8")
    stopped = _run(tmp_path, "reports", "--baseline", str(bad))
    assert stopped.code == 2
    assert stopped.stderr.strip().splitlines() == [
        f"error: The baseline {bad} is not a baseline of ghl-contract: at /entries/0, "
        "\"pointer\" is a required property."]
    assert not (tmp_path / "reports").exists()
