"""`ghl-contract mock`: serves until interrupted, prints what it accepts; mistakes are exit 2."""

from __future__ import annotations

import io
import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ghl_contract.cli import run
from ghl_contract.judge import check_body
from ghl_contract.mock import DRIFT_PROFILES, FAULT_PROFILES, load_seed
from ghl_contract.mock.behaviour import BEHAVIOURS
from ghl_contract.mock.seed import DEFAULT_SEED
from ghl_contract.registry import pinned
from ghl_contract.resources import example_path

SEED = load_seed()
HOME = SEED.locations[0]
DOCUMENTED = "5f9d6d8b1b2d2c001f2d9e4b"
REQUEST = json.loads(example_path("request").read_text("utf-8"))
BOUND = 20.0  # seconds for the subprocess to start or stop: far above what it takes
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


def _run(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["mock", *argv], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_list_profiles_names_every_profile_and_its_rule() -> None:
    code, out, err = _run("--list-profiles")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    for profile in DRIFT_PROFILES.values():
        where = profile.pointer or "(whole answer)"
        assert any(line.split()[:3] == [profile.name, profile.rule, "at"]
                   and f" at {where} (" in line for line in lines), profile.name
    for fault in FAULT_PROFILES.values():
        assert any(line.split()[:2] == [fault.name, f"{fault.rule}:"] for line in lines)
    for behaviour in BEHAVIOURS.values():
        assert any(line.split()[:1] == [behaviour.name] and behaviour.description in line
                   for line in lines)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize(("argv", "says"), [
    (["--drift", "nope"], "error: Unknown drift profile 'nope'; choose one of removed-required,"),
    (["--fault", "nope"], "error: Unknown fault profile 'nope'; choose one of slow,"),
    (["--profile", "nope"], "error: Unknown behaviour profile 'nope'; choose one of documented, "
                            "observed."),
    (["--seed", "/nonexistent/seed.json"], "error: The seed file /nonexistent/seed.json cannot "
                                           "be read:"),
    (["--rate-limit", "fast"], "error: --rate-limit 'fast' is not of the form N/10s"),
    (["--port", "70000"], "error: --port 70000 is not a TCP port (0-65535)."),
    (["--port", "many"], "error: ghl-contract mock: argument --port: invalid int value"),
    (["--fault-delay", "-1"], "error: --fault-delay -1.0 must not be negative."),
], ids=["unknown-drift", "unknown-fault", "unknown-profile", "missing-seed", "bad-rate",
        "port-range", "port-text", "negative-delay"])
def test_mistakes_are_one_sentence_and_exit_2(argv: list[str], says: str) -> None:
    code, out, err = _run(*argv)
    assert (code, out) == (2, "")
    assert err.startswith(says)
    assert err.count("\n") == 1


def test_a_seed_the_mock_cannot_serve_is_refused_before_it_starts(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_SEED.read_text("utf-8"))
    data["locations"][0]["estimates"][0]["items"][0]["qty"] = 10**30
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), "utf-8")
    code, out, err = _run("--seed", str(path), "--port", "0")
    assert (code, out) == (2, "")
    assert err == (f"error: The seed file {path} has estimate '{DOCUMENTED}', which the mock "
                   "cannot convert to an invoice (Integer exceeds 64-bit range); keep its "
                   "numbers within 64-bit integers and doubles.\n")


def test_port_in_use_is_one_sentence_and_exit_2(busy_port: int) -> None:
    code, out, err = _run("--port", str(busy_port))
    assert (code, out) == (2, "")
    assert err == f"error: Cannot listen on 127.0.0.1:{busy_port}: Address already in use.\n"


@contextmanager
def mock_process(*argv: str) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """`ghl-contract mock` in its own process, its output lines in a queue as they come."""
    command = [sys.executable, "-c", "from ghl_contract.cli import main; main()", "mock", *argv]
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        assert process.stdout is not None
        reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                                  daemon=True)
        reader.start()
        try:
            yield process, lines
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(BOUND)
            reader.join(BOUND)


def test_serves_the_documented_request_until_interrupted() -> None:
    with mock_process("--port", "0") as (process, lines):
        first = lines.get(timeout=BOUND)
        match = URL.search(first)
        assert match, first
        url = match.group(0)
        with httpx.Client(base_url=url, timeout=BOUND) as http:
            response = http.post(f"/invoices/estimate/{DOCUMENTED}/invoice", json=REQUEST,
                                 headers={"Authorization": f"Bearer {HOME.token}",
                                          "Version": "2021-07-28"})
            assert response.status_code == 200
            assert check_body(response.content, status=200,
                              content_type=response.headers["content-type"], request=REQUEST,
                              path={"estimateId": DOCUMENTED}) == []
            assert len(http.get("/__mock__/invoices").json()) == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(BOUND) == 0
        assert process.stderr is not None
        stderr = process.stderr.read()
    printed = first + "".join(_drain(lines))
    assert stderr == ""
    served = [line.split() for line in printed.splitlines() if line.startswith("  ")]
    for operation in pinned().manifest:
        route = [operation.method, f"{url}{operation.path}", operation.id,
                 f"({operation.success.status})"]
        assert route in served, operation.id
    assert "profile: documented; drift: none; fault: none" in printed
    for location in SEED.locations:
        assert f"location {location.location_id} (altId), token {location.token}" in printed
        for estimate_id in location.estimates:
            assert f"estimate {estimate_id}" in printed
    assert printed.endswith("Stopped.\n")


def _drain(lines: queue.Queue[str]) -> list[str]:
    drained = []
    while not lines.empty():
        drained.append(lines.get_nowait())
    return drained


def test_options_reach_the_served_mock(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(Path(SEED.source or "").read_text("utf-8"), "utf-8")
    with mock_process("--port", "0", "--seed", str(seed), "--drift", "removed-required",
                      "--rate-limit", "1/1m", "--profile", "observed") as (process, lines):
        first = lines.get(timeout=BOUND)
        match = URL.search(first)
        assert match, first
        with httpx.Client(base_url=match.group(0), timeout=BOUND) as http:
            answers = [http.post(f"/invoices/estimate/{DOCUMENTED}/invoice", json=REQUEST,
                                 headers={"Authorization": f"Bearer {HOME.token}",
                                          "Version": "2021-07-28"}) for _ in range(2)]
        process.terminate()  # SIGTERM ends it as Ctrl-C does
        assert process.wait(BOUND) == 0
    assert [answer.status_code for answer in answers] == [200, 429]
    found = {(f.pointer, f.rule) for f in check_body(
        answers[0].content, status=200, content_type=answers[0].headers["content-type"])}
    # The drift, on top of the observed profile's history entry.
    assert {("/invoice/invoiceNumber", "missing-required"),
            ("/estimate/estimateActionHistory/1/estimateStatus", "property-added")} <= found
    assert answers[1].headers["x-ratelimit-interval-milliseconds"] == "60000"
    printed = first + "".join(_drain(lines))
    assert f"seed: {seed}" in printed
    assert "profile: observed; drift: removed-required; fault: none; rate limit: 1/1m per " \
        "location" in printed
