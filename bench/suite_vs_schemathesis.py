"""The default contract run against `st run` (Schemathesis' CLI), side by side, in one session.

Both test the same operation on the same mock (the package's MockApp, with the rate limit the
embedded mock uses, so that neither is throttled) with the same number of generated cases per
kind (`--max-examples`, default: the suite's profile default). Measured, per tool, the median of
`--repeat` alternating runs:

- end to end: the whole command, from process start to exit (what a CI job waits for);
- testing: the time spent testing, start-up and loading left out: for ours, from the first
  request to the last answer (drift-report.json's note; generation happens inside that span),
  for Schemathesis the time its phases took (what its summary prints; it loads the document
  before);
- cases: the exchanges each tool sent and checked (ours: drift-report.json's `checked`;
  Schemathesis: the test cases its summary counts).

Ours: `ghl-contract run` (the packaged suite against its embedded mock, which runs in the same
process and so counts against it; a forked helper draws the invalid cases on the other core).
Schemathesis: `st run --checks all` on the document printed by `ghl-contract openapi`, against a
MockApp served by this script (in another process than st).
It prints both rates and their ratio (goal: ours at least 2x), the checks each applies per case,
and whether the default run finished within its 60-second budget.

    python bench/suite_vs_schemathesis.py [--repeat 3] [--max-examples 25]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghl_contract.mock.app import MockApp
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import serve
from ghl_contract.suite import INVARIANT_READS
from ghl_contract.suite.generation import DEFAULT_EXAMPLES
from ghl_contract.suite.target import EMBEDDED_RATE_LIMIT

GOAL = 2.0  # the issue: at least 2x Schemathesis' cases per second
BUDGET = 60.0  # seconds: the default run on this 2-core machine
RUN_TIMEOUT = 600.0
CLI = [sys.executable, "-m", "ghl_contract"]
ST = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()"]
ST_CASES = re.compile(r"Test cases:\s*\n\s*(\d+) generated")
ST_TIME = re.compile(r"in (\d+(?:\.\d+)?)s\s*=+\s*$", re.MULTILINE)
SENT = re.compile(r"^Requests sent: (\d+)")
SPAN = re.compile(r"in (\d+(?:\.\d+)?) s, from the first request to the last answer")


@dataclass
class Sample:
    wall: float  # seconds, whole command
    testing: float  # seconds, the tool's own testing time
    cases: int
    requests: int  # HTTP requests the tool sent


class Counting:
    """An ASGI wrapper that counts the HTTP requests reaching the app it wraps."""

    def __init__(self, app: MockApp) -> None:
        self.app, self.requests = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)


def _run(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    # In the scratch directory: Schemathesis keeps a cache (.schemathesis/) where it runs.
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                               check=False, cwd=cwd)
    return completed, time.perf_counter() - started


def ours(work: Path, index: int, max_examples: int | None) -> Sample:
    reports = work / f"ours-{index}"
    command = [*CLI, "run", "--report-dir", str(reports)]
    if max_examples is not None:
        command += ["--max-examples", str(max_examples)]
    completed, wall = _run(command, work)
    if completed.returncode != 0:
        sys.exit(f"ghl-contract run failed (exit {completed.returncode}):\n"
                 f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    report = json.loads((reports / "drift-report.json").read_text())
    span = next(filter(None, (SPAN.search(note) for note in report["notes"])), None)
    sent = next(filter(None, (SENT.search(note) for note in report["notes"])), None)
    if span is None or sent is None:
        sys.exit("drift-report.json has no note of the requests sent and their span.")
    checked = int(report["summary"]["checked"])
    return Sample(wall, float(span.group(1)), checked, int(sent.group(1)))


def schemathesis(work: Path, index: int, document: Path, url: str, token: str,
                 max_examples: int, counter: Counting) -> Sample:
    command = [*ST, "run", str(document), "--url", url, "--checks", "all",
               "--max-examples", str(max_examples), "--generation-deterministic", "--no-color",
               "--report-dir", str(work / f"st-{index}"),
               "-H", f"Authorization: Bearer {token}", "-H", "Version: 2021-07-28"]
    before = counter.requests
    completed, wall = _run(command, work)
    cases = ST_CASES.search(completed.stdout)
    testing = ST_TIME.search(completed.stdout)
    if cases is None:
        sys.exit(f"st run printed no test-case count (exit {completed.returncode}):\n"
                 f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    return Sample(wall, float(testing.group(1)) if testing else wall, int(cases.group(1)),
                  counter.requests - before)


def _median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.wall for s in samples),
                  statistics.median(s.testing for s in samples),
                  int(statistics.median(s.cases for s in samples)),
                  int(statistics.median(s.requests for s in samples)))


def _line(name: str, sample: Sample) -> str:
    return (f"{name:<28} {sample.cases:>6} {sample.requests:>8} {sample.wall:>8.2f} "
            f"{sample.cases / sample.wall:>9.1f} {sample.testing:>9.2f} "
            f"{sample.cases / sample.testing:>9.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per tool")
    parser.add_argument("--max-examples", type=int, default=None,
                        help=f"generated cases per kind (default: {DEFAULT_EXAMPLES}, the "
                             "suite's default)")
    args = parser.parse_args()
    # Schemathesis sends requests h11 refuses (a NUL in a header): uvicorn says so per request.
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    examples = args.max_examples or DEFAULT_EXAMPLES
    work = Path(tempfile.mkdtemp(prefix="ghl-bench-"))
    token = load_seed().locations[0].token
    mine: list[Sample] = []
    theirs: list[Sample] = []
    try:
        counter = Counting(MockApp(rate_limit=EMBEDDED_RATE_LIMIT))
        with serve(counter) as running:
            document = work / "openapi.json"
            printed, _ = _run([*CLI, "openapi", "--server", running.url], work)
            if printed.returncode != 0:
                sys.exit(f"ghl-contract openapi failed: {printed.stderr}")
            document.write_text(printed.stdout, encoding="utf-8")
            for index in range(max(1, args.repeat)):
                mine.append(ours(work, index, args.max_examples))
                theirs.append(schemathesis(work, index, document, running.url, token, examples,
                                           counter))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    a, b = _median(mine), _median(theirs)
    print(f"{len(mine)} alternating runs each, medians; --max-examples {examples} for both; "
          "2-core machine.")
    print(f"{'':<28} {'cases':>6} {'requests':>8} {'wall s':>8} {'cases/s':>9} "
          f"{'testing s':>9} {'cases/s':>9}")
    print(_line("ghl-contract run (default)", a))
    print(_line("st run --checks all", b))
    end_to_end = (a.cases / a.wall) / (b.cases / b.wall)
    testing = (a.cases / a.testing) / (b.cases / b.testing)
    print(f"ratio ours/st: {end_to_end:.2f}x end to end, {testing:.2f}x testing time "
          f"(goal {GOAL:g}x).")
    invariants = len(INVARIANT_READS)
    print("checks per case: st --checks all: 14 generic checks (status, content type, headers, "
          "schema of the vendor-style document, negative/positive data ...); ghl-contract: the "
          f"strict contract (every field, formats, added fields), {invariants} invariants, the "
          "documented status and error shape, transport faults, rate-limit headers.")
    slowest = max(s.wall for s in mine)
    verdict = "within" if slowest < BUDGET else "OVER"
    print(f"default ghl-contract run: {a.wall:.2f} s median, {slowest:.2f} s slowest: {verdict} "
          f"the {BUDGET:g} s budget.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
