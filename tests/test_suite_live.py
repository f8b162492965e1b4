"""Self-contained live runs (against the mock served here as a live target): the run creates the
estimates it converts, verifies what it made, and leaves nothing behind, even when stopped;
a refused token ends it before any write; what it cannot clean up, `ghl-contract cleanup` does."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.mock.app import Message, MockApp, Receive, Scope, Send
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import Running, serve
from ghl_contract.registry import pinned
from ghl_contract.suite.testing import clean_environment, run_suite

SEED = load_seed()
MANIFEST = pinned().manifest
HOME = SEED.locations[0]
SEEDED = {estimate_id for location in SEED.locations for estimate_id in location.estimates}
SEED_NAMES = {estimate_id: estimate["name"] for location in SEED.locations
              for estimate_id, estimate in location.estimates.items()}
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


def _run_until(live_mock: Running[MockApp], reports: Path, *, invoices: int,
               output: int) -> subprocess.Popen[bytes]:
    """A live run in its own process, once the mock holds `invoices` invoices it converted."""
    command = [sys.executable, "-m", "ghl_contract", "run",
               *_live(live_mock, "--allow-writes", "--max-writes", BUDGET, "--max-examples",
                      "50"), "--report-dir", str(reports)]
    child = subprocess.Popen(command, stdout=output, stderr=output, env=clean_environment(),
                             cwd=reports.parent)
    deadline = time.monotonic() + 60
    while len(live_mock.app.store.invoices()) < invoices:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return child


def test_a_run_stopped_by_sigterm_cleans_up_within_15_s(live_mock: Running[MockApp],
                                                        tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    child = _run_until(live_mock, reports, invoices=1, output=subprocess.PIPE)  # its first
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
    child = _run_until(live_mock, reports, invoices=2, output=subprocess.DEVNULL)
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


class StallsAfterCreating:
    """The mock, except that the first request of `operation` (to the object `to`, if given) it
    answers with a 2xx has its answer held back: the object is created, and the client waits for
    an answer that comes only when the test releases it. A run killed meanwhile never sees what
    it created."""

    def __init__(self, app: MockApp, operation: str, to: str | None = None) -> None:
        self.app, self.store, self.operation, self.to = app, app.store, operation, to
        self.stalled, self.released = threading.Event(), threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = MANIFEST.match(scope.get("method", ""), scope.get("path", ""), based=False) \
            if scope["type"] == "http" else None
        if match is None or match[0].id != self.operation or self.stalled.is_set() \
                or (self.to is not None and self.to not in match[1].values()):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if 200 <= held[0]["status"] < 300 and not self.stalled.is_set():
            self.stalled.set()
            while not self.released.is_set():
                await asyncio.sleep(0.01)
        for message in held:
            await send(message)


def _killed_while_waiting(server: Running[StallsAfterCreating], reports: Path,
                          *extra: str) -> dict[str, Any]:
    """Start a live run, SIGKILL it while it waits for the held answer; its ledger."""
    command = [sys.executable, "-m", "ghl_contract", "run",
               *_live(server, "--allow-writes", "--max-writes", BUDGET, *extra),
               "--report-dir", str(reports)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=clean_environment(), cwd=reports.parent)
    try:
        assert server.app.stalled.wait(60), "the run never created what the server holds back"
    finally:
        child.kill()
        child.wait(timeout=10)
        server.app.released.set()
    ledger: dict[str, Any] = json.loads((reports / "created.json").read_text(encoding="utf-8"))
    return ledger


def _cleanup(reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ghl_contract", "cleanup", str(reports)],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=clean_environment({"GHL_TOKEN": HOME.token}))


@pytest.mark.parametrize(("operation", "found_by"), [
    pytest.param("create-new-estimate", "list-estimates", id="estimate"),
    pytest.param("create-invoice-from-estimate", "list-invoices", id="invoice"),
])
def test_cleanup_finds_what_a_run_killed_before_its_answer_created(
        operation: str, found_by: str, tmp_path: Path) -> None:
    app = StallsAfterCreating(MockApp(SEED, rate_limit=(100_000, 10.0)), operation)
    reports = tmp_path / "reports"
    with serve(app) as server:
        ledger = _killed_while_waiting(server, reports)
        estimates, invoices = _left_by_the_run(app.app)
        made = invoices[-1] if operation == "create-invoice-from-estimate" else estimates[-1]
        # The run never recorded it: only the in-flight entry written before sending knows it.
        assert made not in [entry["id"] for entry in ledger["created"]]
        settled = {entry["intent"] for entry in ledger["settled"]}
        assert [e["operation"] for e in ledger["in_flight"] if e["intent"] not in settled] \
            == [operation]
        cleaned = _cleanup(reports)
        assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
        assert f"{made}: deleted (found by {found_by}: the run never saw it created)" \
            in cleaned.stdout
        assert _left_by_the_run(app.app) == ([], [])
        again = _cleanup(reports)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing is left from the run" in again.stdout


def test_a_given_estimate_is_kept_when_its_invoice_is_found(tmp_path: Path) -> None:
    given = next(iter(HOME.estimates))
    app = StallsAfterCreating(MockApp(SEED, rate_limit=(100_000, 10.0)),
                              "create-invoice-from-estimate", to=given)
    reports = tmp_path / "reports"
    with serve(app) as server:
        _killed_while_waiting(server, reports, "--estimate-id", given)
        [invoice] = [i for i in app.store.invoices() if i["name"] == SEED_NAMES[given]]
        cleaned = _cleanup(reports)
        assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
        assert f"estimate {given}: kept (given to the run, not created by it)" in cleaned.stdout
        assert f"invoice {invoice['_id']}: deleted (found by list-invoices" in cleaned.stdout
        assert _left_by_the_run(app.app) == ([], [])
        assert app.store.owner(given) == HOME.location_id  # the given estimate is still there


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


def test_a_live_run_lives_with_the_baseline_of_its_drift(tmp_path: Path) -> None:
    """Issue 14's acceptance against a live drifted mock, where the lifecycle runs too: the
    conversion's drift acknowledged, the invoice read back is not held to the same field again
    (a read-back-mismatch of it would fail the run the baseline lets live)."""
    fast = ("--allow-writes", "--max-writes", BUDGET, "--rate-limit", "1000/1s")
    with serve(MockApp(SEED, drift="changed-type", rate_limit=(100_000, 10.0))) as drifted:
        first = run_suite(*_live(drifted, *fast), report_dir=tmp_path / "first")
        assert first.code == 1, first.output
        assert "run again with --cleanup none to keep what cleanup deletes" in first.stdout
        baseline = tmp_path / "baseline.json"
        made = subprocess.run(
            [sys.executable, "-m", "ghl_contract", "baseline",
             str(tmp_path / "first" / "drift-report.json"), "-o", str(baseline)],
            capture_output=True, text=True, timeout=60, check=False, env=clean_environment())
        assert made.returncode == 0, made.stderr
        again = run_suite(*_live(drifted, *fast, "--baseline", str(baseline)),
                          report_dir=tmp_path / "again")
    assert again.code == 0, again.output
    assert again.report()["findings"] == []
    assert again.report()["summary"]["acknowledged"] > 0


def test_with_cleanup_none_each_failing_findings_curl_shows_the_same_drift_again(
        tmp_path: Path) -> None:
    """Issue 17's acceptance against a live drifted mock: the objects a finding's curl names
    are kept (--cleanup none), so the command, sent again, shows the same drift. The lifecycle's
    tests delete their own estimate as a step of the lifecycle: a curl of theirs names an
    estimate that is gone, and is not replayed here."""
    with serve(MockApp(SEED, drift="changed-type", rate_limit=(100_000, 10.0))) as drifted:
        run = run_suite(*_live(drifted, "--allow-writes", "--max-writes", BUDGET, "--rate-limit",
                               "1000/1s", "--cleanup", "none"), report_dir=tmp_path / "reports")
        assert run.code == 1, run.output
        failing = [f for f in run.report()["findings"] if f["severity"] == "breaking"
                   and not f["source"].startswith("test_lifecycle.py")]
        assert failing
        for found in failing:
            replayed = subprocess.run(["bash", "-c", found["curl"]], capture_output=True,
                                      text=True, timeout=30, check=False,
                                      env=clean_environment({"GHL_TOKEN": HOME.token}))
            answer = json.loads(replayed.stdout)
            assert (found["pointer"], type(answer["invoice"]["amountDue"])) == (
                "/invoice/amountDue", str), found["curl"]
