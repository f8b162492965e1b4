"""`ghl-contract run` end to end, in a child process: the clean mock passes with every report
written, usage mistakes stop the run before any request, pytest gives the same results, and a
live run (against a mock served here on loopback) keeps to its write budget and its secrets."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ghl_contract.mock.app import MockApp
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import Running, serve
from ghl_contract.suite.testing import SuiteRun, clean_environment, run_suite
from ghl_contract.transport.testing import json_reply
from ghl_contract.transport.testing import serve as serve_loopback

QUICK = ("--max-examples", "3", "--hypothesis-profile", "ci")


def _junit(run: SuiteRun) -> ET.Element:
    return ET.parse(run.report_dir / "junit.xml").getroot()


def _cases(run: SuiteRun) -> dict[str, str]:
    """Each test case of junit.xml -> passed, failure, error or skipped."""
    outcomes = {}
    for case in _junit(run).iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
    return outcomes


def test_clean_mock_run_passes_and_writes_every_report(tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("# Earlier step\n", encoding="utf-8")
    run = run_suite(*QUICK, report_dir=tmp_path / "reports",
                    env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert run.code == 0, run.output
    outcomes = _cases(run)
    assert len(outcomes) > 40
    assert "failure" not in outcomes.values()
    assert "error" not in outcomes.values()
    report = run.report()
    assert report["summary"]["breaking"] == 0
    assert report["summary"]["checked"] > 40
    assert any(note.startswith("Plan: ") for note in report["notes"])
    markdown = (run.report_dir / "drift-report.md").read_text(encoding="utf-8")
    assert markdown.startswith("## Contract drift")
    assert summary.read_text(encoding="utf-8") == "# Earlier step\n" + markdown + "\n"
    assert "reports: " in run.stdout
    assert "drift-report.json" in run.stdout
    assert "warning" not in run.output.lower()  # nothing for the user to wonder about
    # Nothing else in the directory it ran from: no pytest cache, no Hypothesis storage.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["reports", "step-summary.md"]


def test_live_url_without_a_token_stops_before_any_request(tmp_path: Path) -> None:
    with serve_loopback(lambda request, index: json_reply(200, {})) as server:
        run = run_suite("--base-url", server.url, "--location-id", "loc", "--estimate-id", "est",
                        report_dir=tmp_path / "reports")
    assert run.code == 2
    assert run.stderr.strip().splitlines() == [
        f"error: A run against {server.url} needs --token (GHL_TOKEN); nothing was sent."]
    assert server.requests == []
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(("args", "named"), [
    pytest.param(("--mock-drift", "no-such-drift"), "--mock-drift", id="unknown-drift"),
    pytest.param(("--mock-fault", "no-such-fault"), "--mock-fault", id="unknown-fault"),
    pytest.param(("--mock-drift", "changed-type", "--base-url", "http://127.0.0.1:9",
                  "--token", "t0ken-value", "--location-id", "l", "--estimate-id", "e"),
                 "--mock-drift", id="drift-with-base-url"),
    pytest.param(("--compare-version", "2021-07-28"), "--compare-version", id="compare-same"),
    pytest.param(("--max-examples", "none"), "--max-examples", id="bad-number"),
    pytest.param(("--base-url", ""), "--base-url is empty", id="empty-base-url"),
    pytest.param(("--api-version", " "), "--api-version is empty", id="empty-version"),
    pytest.param(("--request-timeout", "nan"), "is not a finite number", id="nan-timeout"),
    pytest.param(("--max-examples", "1001"), "more than the 1000 cases", id="too-many-cases"),
    pytest.param(("--token", "t0ken-value", "--estimate-id", "e"),
                 "--token, --estimate-id apply to a run against --base-url", id="live-only"),
    pytest.param(("--max-writes", "-1"), "--max-writes must be 0 or more", id="negative-writes"),
    pytest.param(("--api-version", "v\n3"), "an HTTP header cannot carry", id="version-newline"),
    pytest.param(("--base-url", "http://a b", "--token", "t0ken-value", "--location-id", "l",
                  "--estimate-id", "e"), "is not an http(s) URL", id="url-with-space"),
])
def test_usage_mistake_is_one_sentence_and_exit_2(args: tuple[str, ...], named: str,
                                                  tmp_path: Path) -> None:
    run = run_suite(*args, report_dir=tmp_path / "reports")
    assert run.code == 2
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert named in line
    assert "Traceback" not in run.output


def test_a_token_no_header_can_carry_is_refused_without_being_shown(tmp_path: Path) -> None:
    run = run_suite("--base-url", "http://127.0.0.1:9", "--token", "s3cret\nvalue",
                    "--location-id", "l", "--estimate-id", "e", report_dir=tmp_path / "reports")
    assert run.code == 2
    assert run.stderr.strip() == ("error: --token is not a Bearer token: letters, digits and "
                                  "-._~+/ only, with = at the end at most.")
    assert "s3cret" not in run.output


def test_pytest_on_the_suite_gives_the_same_results_as_run(tmp_path: Path) -> None:
    args = (*QUICK, "--mock-drift", "changed-type")
    through_cli = run_suite(*args, report_dir=tmp_path / "cli")
    through_pytest = run_suite(*args, report_dir=tmp_path / "pytest", through_pytest=True)
    assert (through_cli.code, through_pytest.code) == (1, 1)
    assert through_cli.rules() == through_pytest.rules() == {("type-changed", "/invoice/amountDue")}
    assert _cases(through_cli) == _cases(through_pytest)


def test_compare_version_sends_both_versions_and_finds_no_difference(tmp_path: Path) -> None:
    run = run_suite(*QUICK, "--compare-version", "v3", report_dir=tmp_path / "reports")
    assert run.code == 0, run.output
    assert _cases(run)["test_compared_version_answers_in_the_same_shape"] == "passed"


def test_unsupported_compared_version_fails_the_comparison(tmp_path: Path) -> None:
    run = run_suite(*QUICK, "--compare-version", "2023-02-21", report_dir=tmp_path / "reports")
    assert run.code == 1
    assert _cases(run)["test_compared_version_answers_in_the_same_shape"] == "failure"
    assert "With Version 2023-02-21: POST" in run.stdout


# A live run: any --base-url. Here it is a mock served by the test, so the store can be read.

@pytest.fixture
def live_mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp()) as running:
        yield running


def _live_args(running: Running[MockApp]) -> tuple[str, ...]:
    location = load_seed().locations[0]
    return ("--base-url", running.url, "--token", location.token,
            "--location-id", location.location_id,
            "--estimate-id", next(iter(location.estimates)), *QUICK)


def _no_token_anywhere(run: SuiteRun, token: str, *directories: Path) -> None:
    assert token not in run.output
    files = [path for directory in directories for path in directory.rglob("*") if path.is_file()]
    assert files
    for path in files:
        assert token not in path.read_text(encoding="utf-8", errors="replace"), path


def test_live_run_without_allow_writes_creates_no_invoice(
        live_mock: Running[MockApp], tmp_path: Path) -> None:
    run = run_suite(*_live_args(live_mock), report_dir=tmp_path / "reports")
    assert run.code == 0, run.output
    assert live_mock.app.store.invoices() == []
    plan = run.stdout.index("ghl-contract: Plan: ")
    assert "Writes are off (no --allow-writes)" in run.stdout[plan:]
    outcomes = _cases(run)
    # Reads need no write: the listing, and a listing without a valid token is refused.
    assert outcomes["test_listing_without_a_valid_token_is_unauthorized[no-token]"] == "passed"
    assert outcomes["test_estimates_are_listed"] == "passed"
    # Every request to an operation that writes is a write, whatever its token.
    assert outcomes["test_request_without_a_valid_token_is_unauthorized[no-token]"] == "skipped"
    assert outcomes["test_documented_request_is_converted[estimate-5f9d6d8b1b2d2c001f2d9e4b]"] \
        == "skipped"
    reasons = {skipped["reason"] for skipped in run.report()["skipped"]}
    assert any(reason.startswith("Skipped: this request would create a real invoice")
               for reason in reasons), reasons
    assert run.report()["created"] == []
    _no_token_anywhere(run, load_seed().locations[0].token, run.report_dir)


def test_live_run_with_a_write_budget_creates_exactly_that_many_invoices(
        live_mock: Running[MockApp], tmp_path: Path) -> None:
    recording = tmp_path / "recording"
    run = run_suite(*_live_args(live_mock), "--allow-writes", "--max-writes", "3",
                    "--record", str(recording), report_dir=tmp_path / "reports")
    assert run.code == 0, run.output
    report = run.report()
    # At most three requests that write reached the mock; what they created was deleted after.
    assert report["requests"]["writes"] == 3
    assert 0 < len(report["created"]) <= 3
    assert {made["cleanup"] for made in report["created"]} == {"deleted"}
    assert live_mock.app.store.invoices() == []
    assert "created and cleaned up (deleted)" in run.stdout
    assert any("the write budget of 3 reached" in skipped["reason"]
               for skipped in report["skipped"])
    _no_token_anywhere(run, load_seed().locations[0].token, run.report_dir, recording)


def test_project_sessions_are_left_alone(tmp_path: Path) -> None:
    # The plugin is active in every pytest session; one that runs no contract test gets neither
    # a plan, nor a summary, nor reports, even with a report directory in its environment.
    test_file = tmp_path / "test_unrelated.py"
    test_file.write_text("def test_nothing():\n    pass\n", encoding="utf-8")
    reports = tmp_path / "reports"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-p", "ghl_contract.pytest_plugin",
         "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env=clean_environment({"GHL_REPORT_DIR": str(reports), "GHL_BASE_URL": "http://x"}))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "ghl-contract:" not in completed.stdout
    assert "= ghl-contract =" not in completed.stdout
    assert not reports.exists()
    assert [path.name for path in tmp_path.rglob("*") if path.suffix in (".json", ".md", ".xml")] \
        == []


def test_nothing_answering_at_the_base_url_is_a_set_up_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = run_suite("--base-url", f"http://127.0.0.1:{port}", "--token", "t0ken-value",
                    "--location-id", "l", "--estimate-id", "e", report_dir=tmp_path / "reports")
    assert run.code == 2, run.output
    assert f"Nothing answers at http://127.0.0.1:{port}" in run.stdout
    assert "Traceback" not in run.output


def test_the_run_deadline_ends_a_run_against_a_hanging_server(tmp_path: Path) -> None:
    run = run_suite(*QUICK, "--mock-fault", "slow", "--request-timeout", "5", "--run-timeout", "1",
                    report_dir=tmp_path / "reports")
    assert run.code == 1, run.output
    notes = run.report()["notes"]
    assert any("deadline of 1 s (--run-timeout)" in note for note in notes), notes
    assert "Traceback" not in run.output


def test_pytest_with_several_workers_is_refused(tmp_path: Path) -> None:
    run = run_suite(*QUICK, "-n", "2", report_dir=tmp_path / "reports", through_pytest=True)
    assert run.code == 4  # pytest's usage error
    assert "drop -n/--numprocesses" in run.stderr


def test_pytest_on_the_suite_turns_a_settings_mistake_into_a_usage_error(tmp_path: Path) -> None:
    run = run_suite("--base-url", "http://127.0.0.1:9", report_dir=tmp_path / "reports",
                    through_pytest=True)
    assert run.code == 4  # pytest's usage error, before any request
    assert "needs --token (GHL_TOKEN)" in run.stderr
    assert "Traceback" not in run.output


# pytest-base-url (brought by pytest-playwright and pytest-selenium) defines --base-url too; a
# stand-in with the same module name and option.
_BASE_URL_PLUGIN = '''
def pytest_addoption(parser):
    parser.addoption("--base-url", dest="base_url", default=None)
'''


def _with_base_url_plugin(tmp_path: Path) -> dict[str, str]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "pytest_base_url.py").write_text(_BASE_URL_PLUGIN, encoding="utf-8")
    return {"PYTHONPATH": str(plugins)}


def test_a_session_with_pytest_base_url_keeps_its_base_url(tmp_path: Path) -> None:
    test_file = tmp_path / "test_web.py"
    test_file.write_text("def test_page(request):\n"
                         "    assert request.config.getoption('base_url') == 'https://app.test'\n",
                         encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-p", "pytest_base_url",
         "-p", "ghl_contract.pytest_plugin", "-p", "no:cacheprovider",
         "--base-url", "https://app.test"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env=clean_environment(_with_base_url_plugin(tmp_path)))
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_with_pytest_base_url_the_suite_is_aimed_with_ghl_base_url(tmp_path: Path) -> None:
    env = _with_base_url_plugin(tmp_path)
    theirs = run_suite("-p", "pytest_base_url", "--base-url", "http://127.0.0.1:9",
                       report_dir=tmp_path / "theirs", env=env, through_pytest=True)
    assert theirs.code == 4, theirs.output  # not a silent run against the embedded mock
    assert "aim the contract suite with --ghl-base-url or GHL_BASE_URL" in theirs.stderr
    ours = run_suite("-p", "pytest_base_url", "--ghl-base-url", "http://127.0.0.1:9",
                     report_dir=tmp_path / "ours", env=env, through_pytest=True)
    assert ours.code == 4, ours.output
    assert "A run against http://127.0.0.1:9 needs --token" in ours.stderr
    run = run_suite(*QUICK, report_dir=tmp_path / "run", env=env)  # the CLI is unaffected
    assert run.code == 0, run.output


def test_breaking_drift_fails_the_run_when_the_test_that_checks_it_is_deselected(
        tmp_path: Path) -> None:
    # The invariant tests share the documented conversion but check their own rules only;
    # test_examples, which checks the conversion whole, is left out by -k.
    run = run_suite(*QUICK, "--mock-drift", "date-format", "-k", "invariant",
                    report_dir=tmp_path / "reports")
    assert run.code == 1, run.output
    assert ("format-changed", "/invoice/issueDate") in run.rules()
    assert "though no selected test failed on it" in run.stdout


def test_the_plan_counts_the_shared_conversions_once(tmp_path: Path) -> None:
    # The invariant tests read the documented conversion of every estimate; it is sent once per
    # estimate, whichever tests read it.
    estimates = len(load_seed().locations[0].estimates)
    run = run_suite(*QUICK, "-k", "invariant", report_dir=tmp_path / "reports")
    assert run.code == 0, run.output
    assert f"at most {estimates} requests." in run.stdout
    assert run.report()["summary"]["checked"] == estimates


def test_a_reader_that_goes_away_leaves_the_reports_and_the_exit_code(tmp_path: Path) -> None:
    # `ghl-contract run | head -1` in a CI step: the reports are still the job's artefacts.
    reports = tmp_path / "reports"
    with subprocess.Popen(
            [sys.executable, "-m", "ghl_contract", "run", *QUICK, "--mock-drift", "changed-type",
             "--report-dir", str(reports)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
            env=clean_environment()) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        child.stdout.readline()
        child.stdout.close()
        errors = child.stderr.read().decode()
        code = child.wait(timeout=120)
    assert code == 1
    assert "Traceback" not in errors
    assert "BrokenPipe" not in errors
    assert sorted(path.name for path in reports.iterdir()) == [
        "drift-report.json", "drift-report.md", "junit.xml", "report.html"]


def test_a_drift_no_selected_test_reached_is_said(tmp_path: Path) -> None:
    # The drift changes 422 answers; the invariant tests only ever get 200s.
    run = run_suite(*QUICK, "-k", "invariant", "--mock-drift", "error-message-string",
                    report_dir=tmp_path / "reports")
    assert run.code == 0, run.output
    note = ("The drift profile error-message-string changed no answer: no selected test received "
            "a 422 answer, so this run says nothing about it.")
    assert note in run.report()["notes"]
    assert note in run.stdout


def _requests(recording: Path) -> list[tuple[str, str, str | None]]:
    entries = json.loads((recording / "exchanges.har").read_text(encoding="utf-8"))["log"]
    # The path, not the URL: each run serves the embedded mock on a port of its own.
    return [(entry["request"]["method"], urlsplit(entry["request"]["url"]).path,
             (entry["request"].get("postData") or {}).get("text"))
            for entry in entries["entries"]]


def test_the_same_seed_sends_the_same_requests(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("first", "11"), ("again", "11"), ("other", "12")):
        run = run_suite("--max-examples", "8", "--seed", seed, "--record",
                        str(tmp_path / name), "-k", "generated", report_dir=tmp_path / name)
        assert run.code == 0, run.output
        assert "Seed " + seed in run.stdout
        runs[name] = _requests(tmp_path / name)
    assert len(runs["first"]) == 16  # 8 valid, 8 invalid
    assert runs["first"] == runs["again"]
    assert runs["first"] != runs["other"]
