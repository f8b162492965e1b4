"""Self-contained live runs (against the mock served here as a live target): the run creates the
estimates it converts, verifies what it made, and leaves nothing behind, even when stopped;
a refused token ends it before any write; what it cannot clean up, `ghl-contract cleanup` does."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghl_contract.mock.app import MockApp
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import Running, serve
from ghl_contract.suite.testing import clean_environment, run_suite

SEED = load_seed()
HOME = SEED.locations[0]
SEEDED = {estimate_id for location in SEED.locations for estimate_id in location.estimates}
QUICK = ("--max-examples", "3", "--hypothesis-profile", "ci")
# Writes a complete run needs at most, with QUICK (the plan says so; a test below checks it).
BUDGET = "200"


@pytest.fixture
def live_mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp(SEED, rate_limit=(100_000, 10.0))) as running:
        yield running


def _live(running: Running[MockApp], *extra: str) -> tuple[str, ...]:
    return ("--base-url", running.url, "--token", HOME.token, "--location-id", HOME.location_id,
            *QUICK, *extra)


def _left_by_the_run(app: MockApp) -> tuple[list[str], list[str]]:
    """The estimates and invoices on the mock that the run made and did not clean up."""
    estimates = [e["_id"] for e in app.store.estimates() if e["_id"] not in SEEDED]
    invoices = [i["_id"] for i in app.store.invoices()]
    return estimates, invoices


def test_a_complete_run_creates_what_it_converts_and_leaves_nothing(
        live_mock: Running[MockApp], tmp_path: Path) -> None:
    run = run_suite(*_live(live_mock, "--allow-writes", "--max-writes", BUDGET,
                           "--require-complete"), report_dir=tmp_path / "reports")
    assert run.code == 0, run.output
    assert "enough for a complete run" in run.stdout
    report = run.report()
    created = report["created"]
    kinds = {made["kind"] for made in created}
    assert kinds == {"estimate", "invoice"}
    assert {made["cleanup"] for made in created} == {"deleted"}
    assert _left_by_the_run(live_mock.app) == ([], [])
    # No estimate was converted twice with markAsInvoiced: one created per marked conversion.
    ledger = json.loads((tmp_path / "reports" / "created.json").read_text(encoding="utf-8"))
    assert [made["id"] for made in ledger["created"]] == [made["id"] for made in created]
    assert report["requests"]["writes"] <= int(BUDGET)
    assert "Incomplete" not in run.stdout


def test_a_smaller_budget_says_what_it_skips_and_fails_with_require_complete(
        live_mock: Running[MockApp], tmp_path: Path) -> None:
    run = run_suite(*_live(live_mock, "--allow-writes", "--max-writes", "4",
                           "--require-complete"), report_dir=tmp_path / "reports")
    assert run.code == 1, run.output
    assert "cannot be afforded and will be skipped" in run.stdout
    assert "Incomplete: " in run.stdout
    assert "--require-complete: a skipped contract test fails the run." in run.stdout
    assert run.report()["requests"]["writes"] <= 4
    assert _left_by_the_run(live_mock.app) == ([], [])


def test_a_refused_token_ends_the_run_before_any_write(live_mock: Running[MockApp],
                                                       tmp_path: Path) -> None:
    started = time.monotonic()
    run = run_suite("--base-url", live_mock.url, "--token", "expired-token-0000",
                    "--location-id", HOME.location_id, "--allow-writes", *QUICK,
                    report_dir=tmp_path / "reports")
    assert time.monotonic() - started < 10
    assert run.code == 2, run.output
    assert run.stderr.startswith(f"error: The token was refused for location {HOME.location_id}: ")
    assert "nothing was written" in run.stderr
    assert run.stdout == ""
    assert _left_by_the_run(live_mock.app) == ([], [])
    assert live_mock.app.store.invoices() == []


def test_a_run_stopped_by_sigterm_cleans_up_within_15_s(live_mock: Running[MockApp],
                                                        tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "ghl_contract", "run",
               *_live(live_mock, "--allow-writes", "--max-writes", BUDGET, "--max-examples",
                      "50"), "--report-dir", str(reports)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=clean_environment(), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not live_mock.app.store.invoices():  # its first conversion
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    out, err = child.communicate(timeout=30)
    assert time.monotonic() - stopped < 15
    assert child.returncode != 0
    assert b"Traceback" not in out + err
    left = _left_by_the_run(live_mock.app)
    if left != ([], []):  # what the run could not clean up, its ledger knows
        cleaned = subprocess.run(
            [sys.executable, "-m", "ghl_contract", "cleanup", str(reports)],
            capture_output=True, text=True, timeout=60, check=False,
            env=clean_environment({"GHL_TOKEN": HOME.token}))
        assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert _left_by_the_run(live_mock.app) == ([], [])


def test_cleanup_undoes_what_a_killed_run_left_and_is_idempotent(
        live_mock: Running[MockApp], tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "ghl_contract", "run",
               *_live(live_mock, "--allow-writes", "--max-writes", BUDGET, "--max-examples",
                      "50"), "--report-dir", str(reports)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=clean_environment(), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while len(live_mock.app.store.invoices()) < 2:
        assert child.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child.kill()  # no cleanup at all: the ledger is all that is left
    child.wait(timeout=10)
    _, invoices = _left_by_the_run(live_mock.app)
    assert invoices
    environment = clean_environment({"GHL_TOKEN": HOME.token})
    for _ in range(2):  # the second time, nothing is left to do
        cleaned = subprocess.run(
            [sys.executable, "-m", "ghl_contract", "cleanup", str(reports)],
            capture_output=True, text=True, timeout=60, check=False, env=environment)
        assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
        assert _left_by_the_run(live_mock.app) == ([], [])
    assert "Nothing is left from the run" in cleaned.stdout
    missing_token = subprocess.run(
        [sys.executable, "-m", "ghl_contract", "cleanup", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False, env=clean_environment())
    assert missing_token.returncode == 2
    assert missing_token.stderr.startswith("error: ")


@pytest.mark.parametrize(("drift", "rule", "pointer"), [
    pytest.param("discount-not-carried", "discount-mismatch", "/invoice/discount",
                 id="invoice-drops-the-discount"),
    pytest.param("read-back-discount-dropped", "read-back-mismatch", "/discount",
                 id="read-back-differs"),
])
def test_what_the_run_made_is_verified_at_the_right_pointer(
        drift: str, rule: str, pointer: str, tmp_path: Path) -> None:
    with serve(MockApp(SEED, drift=drift, rate_limit=(100_000, 10.0))) as running:
        run = run_suite(*_live(running, "--allow-writes", "--max-writes", BUDGET),
                        report_dir=tmp_path / "reports")
        left = _left_by_the_run(running.app)
    assert run.code == 1, run.output
    assert (rule, pointer) in run.rules()
    assert left == ([], [])
