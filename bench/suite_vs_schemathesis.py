"""`ghl-contract run` against `st run` (Schemathesis' CLI), end to end, on one live target.

Both tools test the same operation (the primary one, POST /invoices/estimate/{estimateId}/invoice)
at the same base URL: one `ghl-contract mock` process, started here, with its rate limit raised so
that neither tool is throttled, and each tool's own client-side limit raised too (ours defaults to
25/10s against a live URL). Ours runs as a live run: `--base-url` with the mock's token, location
and documented estimate (`--estimate-id`), the second location for the 403 tests, writes allowed
without a budget. Schemathesis runs `st run --checks all` on the document `ghl-contract openapi`
prints, restricted to the same operation. Both draw `--max-examples` cases per generated test, both
from the same seed (`--seed`, one per pair).

Measured, per tool and run:

- wall: the whole command, from process start to exit (what a CI job waits for);
- requests: what reached the mock, from each tool's own recording of the run (ours `--record`,
  Schemathesis `--report har`; both tools pay for their recording);
- distinct: the distinct requests among them (method, URL, Authorization and Version headers,
  Content-Type, body). Ours redacts its tokens in its recording, so its requests that differ only
  by token count once here: its count is a floor.

Both tools run as installed packages do, with their bytecode cached (an environment's
PYTHONDONTWRITEBYTECODE is dropped: pip compiles a package's bytecode when it installs it), after
one untimed run of each (caches filled: bytecode, Hypothesis', Schemathesis'). The rate is
distinct requests per second of wall time. Runs alternate (ours then theirs, theirs then
ours, ...); the script prints each tool's medians and the ratio of the median rates, with the
range of the per-pair ratios (goal: at least 2x at --max-examples 100, 1.5x at the default).

    python bench/suite_vs_schemathesis.py [--repeat 5] [--max-examples 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghl_contract.mock.seed import load_seed
from ghl_contract.registry import pinned
from ghl_contract.suite.generation import DEFAULT_EXAMPLES

GOALS = {100: 2.0}  # the issue: 2x at --max-examples 100, 1.5x at the default size
DEFAULT_GOAL = 1.5
RUN_TIMEOUT = 900.0
START_TIMEOUT = 30.0
CLI = [sys.executable, "-m", "ghl_contract"]
ST = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()"]
UNLIMITED = "1000000000/10s"
ENVIRONMENT = {name: value for name, value in os.environ.items()
               if name != "PYTHONDONTWRITEBYTECODE"}
# The headers that make two requests different; the others are the client's own (User-Agent,
# Content-Length, Schemathesis' test-case id...).
KEY_HEADERS = ("authorization", "version", "content-type")


@dataclass(frozen=True)
class Live:
    """The target both tools test, and the credentials the mock's seed gives them."""

    url: str
    token: str
    location_id: str
    estimate_id: str
    other_location_id: str
    other_estimate_id: str

    def ours(self) -> list[str]:
        return ["--base-url", self.url, "--token", self.token,
                "--location-id", self.location_id, "--estimate-id", self.estimate_id,
                "--other-location-id", self.other_location_id,
                "--other-estimate-id", self.other_estimate_id,
                "--allow-writes", "--max-writes", "1000000", "--rate-limit", UNLIMITED]


@dataclass
class Sample:
    wall: float  # seconds, the whole command
    requests: int
    distinct: int

    @property
    def rate(self) -> float:
        return self.distinct / self.wall


@contextmanager
def mock_process() -> Iterator[Live]:
    """`ghl-contract mock` on a free loopback port, its rate limit out of reach."""
    command = [*CLI, "mock", "--port", "0", "--rate-limit", UNLIMITED]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as process:
        stdout = process.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        # Read in a thread so that a mock that never prints cannot hang the script; the rest of
        # its output is drained so that it never blocks on a full pipe.
        threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
        try:
            match = re.search(r"http://127\.0\.0\.1:\d+", lines.get(timeout=START_TIMEOUT))
            if not match:
                raise SystemExit("The mock did not print its URL.")
            first, second = load_seed().locations[:2]
            yield Live(match.group(0), first.token, first.location_id, next(iter(first.estimates)),
                       second.location_id, next(iter(second.estimates)))
        finally:
            process.terminate()
            process.wait(START_TIMEOUT)


def timed(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `command` to its end; its wall time in seconds."""
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                               check=False, cwd=cwd, env=ENVIRONMENT)
    return completed, time.perf_counter() - started


def recorded(har: Path) -> tuple[int, int]:
    """Requests and distinct requests of a HAR recording."""
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    keys: set[tuple[Any, ...]] = set()
    for entry in entries:
        request = entry["request"]
        headers = {h["name"].lower(): h["value"] for h in request.get("headers", ())}
        body = request.get("postData") or {}
        keys.add((request["method"], request["url"], *(headers.get(n) for n in KEY_HEADERS),
                  body.get("text"), body.get("encoding") or body.get("_encoding")))
    return len(entries), len(keys)


def failed(tool: str, completed: subprocess.CompletedProcess[str]) -> SystemExit:
    return SystemExit(f"{tool} failed (exit {completed.returncode}):\n"
                      f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}")


def ours(live: Live, work: Path, name: str, examples: int | None, seed: int) -> Sample:
    """One `ghl-contract run` against the live target; it must pass."""
    record = work / name
    command = [*CLI, "run", *live.ours(), "--seed", str(seed), "--record", str(record)]
    if examples is not None:
        command += ["--max-examples", str(examples)]
    completed, wall = timed(command, work)
    if completed.returncode != 0:
        raise failed("ghl-contract run", completed)
    return Sample(wall, *recorded(record / "exchanges.har"))


def schemathesis(live: Live, work: Path, name: str, document: Path, examples: int,
                 seed: int) -> Sample:
    """One `st run --checks all` of the primary operation against the live target."""
    har = work / f"{name}.har"
    command = [*ST, "run", str(document), "--url", live.url, "--checks", "all",
               "--include-operation-id", pinned().manifest.primary.id,
               "--max-examples", str(examples), "--seed", str(seed), "--no-color",
               "--report", "har", "--report-har-path", str(har),
               "-H", f"Authorization: Bearer {live.token}", "-H", "Version: 2021-07-28"]
    completed, wall = timed(command, work)
    if not har.exists():
        raise failed("st run", completed)
    return Sample(wall, *recorded(har))


def median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.wall for s in samples),
                  round(statistics.median(s.requests for s in samples)),
                  round(statistics.median(s.distinct for s in samples)))


def document(live: Live, work: Path) -> Path:
    """The OpenAPI document Schemathesis tests, aimed at the live target."""
    printed, _ = timed([*CLI, "openapi", "--server", live.url], work)
    if printed.returncode != 0:
        raise failed("ghl-contract openapi", printed)
    path = work / "openapi.json"
    path.write_text(printed.stdout, encoding="utf-8")
    return path


def compare(repeat: int, examples: int | None, seed: int) -> tuple[list[Sample], list[Sample]]:
    """`repeat` alternating pairs of runs of both tools, seeds `seed`, `seed + 1`..."""
    size = examples or DEFAULT_EXAMPLES
    mine: list[Sample] = []
    theirs: list[Sample] = []
    work = Path(tempfile.mkdtemp(prefix="ghl-bench-"))
    try:
        with mock_process() as live:
            openapi = document(live, work)
            ours(live, work, "warm-up", examples, seed)
            schemathesis(live, work, "warm-up", openapi, size, seed)
            for index in range(repeat):
                pair = seed + index
                for tool in ("ours", "st") if index % 2 == 0 else ("st", "ours"):
                    if tool == "ours":
                        mine.append(ours(live, work, f"ours-{pair}", examples, pair))
                    else:
                        theirs.append(schemathesis(live, work, f"st-{pair}", openapi, size, pair))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return mine, theirs


def _line(name: str, sample: Sample) -> str:
    return (f"{name:<30} {sample.requests:>8} {sample.distinct:>8} {sample.wall:>8.2f} "
            f"{sample.rate:>10.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="alternating pairs of runs")
    parser.add_argument("--max-examples", type=int, default=None,
                        help=f"generated cases per generated test (default: the suite's, "
                             f"{DEFAULT_EXAMPLES})")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first pair")
    args = parser.parse_args()
    mine, theirs = compare(max(1, args.repeat), args.max_examples, args.seed)
    a, b = median(mine), median(theirs)
    size = args.max_examples or DEFAULT_EXAMPLES
    print(f"{len(mine)} alternating pairs, medians; --max-examples {size} for both; one "
          "`ghl-contract mock` process as the live target.")
    print(f"{'':<30} {'requests':>8} {'distinct':>8} {'wall s':>8} {'distinct/s':>10}")
    print(_line("ghl-contract run (live)", a))
    print(_line("st run --checks all", b))
    pairs = sorted(m.rate / t.rate for m, t in zip(mine, theirs, strict=True))
    goal = GOALS.get(size, DEFAULT_GOAL)
    print(f"ratio of request rates ours/st, end to end: {a.rate / b.rate:.2f}x "
          f"(pairs {pairs[0]:.2f}-{pairs[-1]:.2f}x; goal {goal:g}x).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
