"""The forked helper that draws a run's invalid cases while the run sends its other tests (and
the run itself never loads Schemathesis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from ghl_contract.mock.seed import load_seed
from ghl_contract.suite import ahead
from ghl_contract.suite.ahead import Ahead
from ghl_contract.suite.generation import GeneratedCase, invalid_cases, register_profiles
from ghl_contract.suite.testing import RUN_TIMEOUT, clean_environment

FIRST = load_seed().locations[0]
DRAW = partial(invalid_cases, 5, estimate_ids=tuple(FIRST.estimates),
               location_id=FIRST.location_id, api_version="2021-07-28", profile="ci")


@pytest.fixture(autouse=True)
def _profiles() -> None:
    register_profiles()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _started(draw: object, kind: str = "invalid", count: int = 5) -> Ahead:
    assert ahead.can_fork(), f"another thread runs in this process: {threading.enumerate()}"
    started = Ahead.start(kind, count, draw)  # type: ignore[arg-type]
    assert started is not None
    return started


def test_the_helper_draws_the_cases_the_process_would() -> None:
    helper = _started(DRAW)
    drawn = helper.take("invalid", 5)
    assert drawn == DRAW()  # the ci profile is derandomized: the same cases, exactly
    assert drawn is not None
    assert len(drawn) == 5
    assert all(isinstance(case, GeneratedCase) for case in drawn)
    assert _gone(helper.pid)


def test_cases_of_another_kind_or_count_are_drawn_in_process() -> None:
    helper = _started(DRAW)
    assert helper.take("valid", 5) is None
    assert helper.take("invalid", 6) is None
    helper.cancel()
    assert _gone(helper.pid)


def test_a_failing_helper_leaves_the_drawing_to_the_process() -> None:
    def broken() -> list[GeneratedCase]:
        raise RuntimeError("no strategy")

    helper = _started(broken)
    assert helper.take("invalid", 5) is None
    assert _gone(helper.pid)


def _slow() -> list[GeneratedCase]:
    time.sleep(30)
    return []


def test_a_helper_not_done_in_time_is_stopped() -> None:
    helper = _started(_slow)
    started = time.monotonic()
    assert helper.take("invalid", 5, within=0.2) is None  # the run's time left, say
    assert time.monotonic() - started < 10
    assert _gone(helper.pid)


def test_no_helper_is_waited_for_longer_than_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ahead, "HELPER_TIMEOUT", 0.2)
    helper = _started(_slow)
    started = time.monotonic()
    assert helper.take("invalid", 5, within=3600) is None
    assert time.monotonic() - started < 10
    assert _gone(helper.pid)


def test_no_helper_is_forked_while_another_thread_runs() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not ahead.can_fork()
        assert Ahead.start("invalid", 5, DRAW) is None
    finally:
        release.set()
        thread.join()


def test_nothing_is_forked_for_no_case() -> None:
    assert Ahead.start("invalid", 0, DRAW) is None


def test_a_run_draws_through_its_helper_without_loading_schemathesis_itself(
        tmp_path: Path) -> None:
    # The run's own process lists its valid cases and takes the helper's invalid ones: it never
    # loads Schemathesis or Hypothesis (a second or so of start-up that the helper pays instead,
    # on the other core).
    script = ("import sys\n"
              "from ghl_contract.cli import run\n"
              "code = run(sys.argv[1:], sys.stdout, sys.stderr)\n"
              "print('loaded:', [m for m in ('hypothesis', 'schemathesis') if m in sys.modules])\n"
              "sys.exit(code)\n")
    completed = subprocess.run(
        [sys.executable, "-c", script, "run", "--max-examples", "5", "--seed", "3",
         "-k", "generated", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
        env=clean_environment(), cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "loaded: []" in completed.stdout
    report = json.loads((tmp_path / "drift-report.json").read_text(encoding="utf-8"))
    assert report["summary"]["checked"] == 11  # the preflight read, 5 valid, 5 invalid


def _cases(count: int, size: int = 10) -> list[GeneratedCase]:
    return [GeneratedCase("e1", {"n": n, "pad": "x" * size}, "case") for n in range(count)]


def test_the_first_cases_arrive_while_the_helper_draws_the_rest() -> None:
    def draw() -> Iterator[GeneratedCase]:
        yield from _cases(ahead.FRAME)
        time.sleep(30)
        yield from _cases(1)

    helper = _started(draw, count=ahead.FRAME + 1)
    stream = helper.stream("invalid", ahead.FRAME + 1)
    assert stream is not None
    started = time.monotonic()
    assert [next(stream) for _ in range(ahead.FRAME)] == _cases(ahead.FRAME)
    assert time.monotonic() - started < 10
    stream.close()  # the test stopped reading: the helper is stopped
    assert _gone(helper.pid)


def test_a_helper_that_fails_midway_gives_what_it_drew_then_says_so() -> None:
    def draw() -> Iterator[GeneratedCase]:
        yield from _cases(ahead.FRAME)
        raise RuntimeError("out of strategies")

    helper = _started(draw, count=20)
    stream = helper.stream("invalid", 20)
    assert stream is not None
    assert [next(stream) for _ in range(ahead.FRAME)] == _cases(ahead.FRAME)
    with pytest.raises(ahead.HelperFailed):
        next(stream)
    assert _gone(helper.pid)


def test_the_helper_draws_on_while_the_run_reads_nothing(tmp_path: Path) -> None:
    done = tmp_path / "done"
    many = _cases(3000, size=200)  # about 700 kB: far more than a pipe holds

    def draw() -> Iterator[GeneratedCase]:
        yield from many
        done.touch()

    helper = _started(draw, count=len(many))
    deadline = time.monotonic() + 30
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done.exists()  # every case drawn before the run read any
    assert helper.take("invalid", len(many)) == many
    assert _gone(helper.pid)
