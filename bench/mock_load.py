"""How much load the mock takes on loopback, against what the contract suite asks of it.

Measures, in one session:

- a default contract run: `ghl-contract run --record DIR` (the packaged suite against its
  embedded mock), its request rate taken from the recorded exchanges (requests over the span from
  the first request to the last answer, so pytest's start-up does not count against it);
- one contract-suite case back to back: the documented request sent with httpx and its answer
  checked with `check_payload`, one after the other: the most a client doing nothing else asks;
- the load: `ghl-contract mock` in its own process (as CI or a developer runs it), the documented
  request from N concurrent keep-alive connections (N = 1, 4, 16) of a lean asyncio client, so
  that the mock, not the client, is what is measured. Each level is bounded in requests and time.

It prints requests/s and p50/p99 latency per level and the mock's best throughput as a ratio of
both baselines; the issue's target is 10 times a default contract run's rate. Every answer must be
a 200 (zero errors) and the mock's store must hold one invoice per 200 (nothing lost), else the
script exits 1.

With `--sustained SECONDS` it measures one thing instead: the same load from `--connections`
connections (32) for that long (60 s is the issue's), every answer a new stored invoice, and prints
p50, p99 and their ratio over the whole run and per window of 10 s, so that a p99 that climbs as
the store grows (a garbage collector walking every stored invoice) shows. The target: p99 within 3x
p50. Timings are printed, never asserted.

    python bench/mock_load.py [--requests 4000] [--seconds 8] [--baseline 600]
    python bench/mock_load.py --sustained 60 [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import orjson

from ghl_contract.judge import check_payload
from ghl_contract.mock import load_seed
from ghl_contract.resources import example_path

CONCURRENCY = (1, 4, 16)
TARGET = 10.0  # the issue: the mock's throughput at least 10x a default contract run's rate
FLAT = 3.0  # the issue: under sustained load, p99 at most 3x p50
WINDOW = 10.0  # seconds per window of the sustained run's report
START_TIMEOUT = 30.0
RUN_TIMEOUT = 600.0  # seconds for the default contract run
CLI = [sys.executable, "-c", "from ghl_contract.cli import main; main()"]
# The same command, with the mock's garbage collections timed (gc.callbacks) and, when it stops,
# reported on stderr as JSON: per generation, how many and their pauses in seconds.
GC_PROBE = """
import atexit, gc, json, sys, time
pauses = {0: [], 1: [], 2: []}
began = [0.0]
def watch(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        pauses[info["generation"]].append(time.perf_counter() - began[0])
gc.callbacks.append(watch)
atexit.register(lambda: print("GC " + json.dumps(pauses), file=sys.stderr, flush=True))
from ghl_contract.cli import main
main()
"""
DOCUMENTED = "5f9d6d8b1b2d2c001f2d9e4b"
PATH = f"/invoices/estimate/{DOCUMENTED}/invoice"
LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


@dataclass
class Level:
    concurrency: int
    latencies: list[float]
    errors: int
    seconds: float
    finished: list[float] = field(default_factory=list)  # when each answer ended (perf_counter)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


@contextmanager
def mock_process(collections: dict[str, list[float]] | None = None) -> Iterator[str]:
    """`ghl-contract mock` on a free loopback port, with a rate limit the load never reaches;
    with `collections`, its garbage collections' pauses by generation are put there."""
    command = [*(CLI if collections is None else [sys.executable, "-c", GC_PROBE]),
               "mock", "--port", "0", "--rate-limit", "1000000000/1s"]
    stderr = None if collections is None else subprocess.PIPE
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True) as process:
        stdout = process.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        # Read in a thread so that a mock that never prints cannot hang the script.
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            match = re.search(r"http://127\.0\.0\.1:\d+", lines.get(timeout=START_TIMEOUT))
            if not match:
                raise SystemExit("The mock did not print its URL.")
            yield match.group(0)
        finally:
            process.terminate()
            process.wait(START_TIMEOUT)
        if collections is not None and process.stderr is not None:
            for line in process.stderr.read().splitlines():
                if line.startswith("GC "):
                    collections.update(json.loads(line[3:]))


def request_bytes(port: int, token: str, body: bytes) -> bytes:
    head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nVersion: 2021-07-28\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _connection(port: int, raw: bytes, deadline: float, budget: list[int],
                      level: Level) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            found = LENGTH.search(head)
            if found is None:
                raise SystemExit(f"An answer without Content-Length: {head!r}")
            length = int(found.group(1))
            await reader.readexactly(length)
            ended = time.perf_counter()
            level.latencies.append(ended - started)
            level.finished.append(ended)
            if not head.startswith(b"HTTP/1.1 200 "):
                level.errors += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def _load(port: int, raw: bytes, concurrency: int, requests: int, seconds: float) -> Level:
    level = Level(concurrency, [], 0, 0.0)
    budget = [requests]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, raw, started + seconds, budget, level)
                           for _ in range(concurrency)))
    level.seconds = time.perf_counter() - started
    return level


def baseline(url: str, token: str, request: dict[str, object], count: int,
             seconds: float) -> tuple[float, int]:
    """One contract-suite case after another: documented request (httpx), check_payload."""
    done = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}",
                                             "Version": "2021-07-28"}) as http:
        started = time.perf_counter()
        while done < count and time.perf_counter() - started < seconds:
            response = http.post(PATH, json=request)
            if response.status_code != 200 or check_payload(response.json()):
                raise SystemExit(f"The baseline's answer was not clean: {response.text[:300]}")
            done += 1
        return done / (time.perf_counter() - started), done


def contract_run() -> tuple[float, int] | str:
    """A default `ghl-contract run`: (requests per second, requests), or why it was not measured."""
    with tempfile.TemporaryDirectory(prefix="ghl-bench-") as tmp:
        try:
            done = subprocess.run([*CLI, "run", "--record", tmp], capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return f"the run took more than {RUN_TIMEOUT:.0f} s"
        entries = [entry for har in sorted(Path(tmp).glob("**/*.har"))
                   for entry in json.loads(har.read_text("utf-8"))["log"]["entries"]]
    if done.returncode != 0 or not entries:
        last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        return f"the run exited {done.returncode} with {len(entries)} exchanges ({last[0]})"
    starts = [datetime.fromisoformat(entry["startedDateTime"]).timestamp() for entry in entries]
    ends = [start + entry["time"] / 1000 for start, entry in zip(starts, entries, strict=True)]
    return len(entries) / (max(ends) - min(starts)), len(entries)


def _percentiles(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and the largest latency, in milliseconds."""
    ordered = sorted(latencies)
    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000
    return at(0.50), at(0.99), ordered[-1] * 1000


def sustained(seconds: float, connections: int, token: str, request: dict[str, object]) -> int:
    """The sustained run: one level for `seconds`, reported as a whole and per window."""
    collections: dict[str, list[float]] = {}
    with mock_process(collections) as url:
        port = int(url.rsplit(":", 1)[1])
        raw = request_bytes(port, token, orjson.dumps(request))
        started = time.perf_counter()
        level = asyncio.run(_load(port, raw, connections, 10**9, seconds))
    print(f"sustained load: {connections} connections for {level.seconds:.0f} s, "
          f"{len(level.latencies):,} requests ({level.rate:,.0f}/s), {level.errors} errors; "
          "each answer a new stored invoice")
    print(f"{'window s':>9} {'requests':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8}")
    windows: dict[int, list[float]] = {}
    for latency, ended in zip(level.latencies, level.finished, strict=True):
        windows.setdefault(int((ended - started) // WINDOW), []).append(latency)
    for index in sorted(windows):
        p50, p99, worst = _percentiles(windows[index])
        print(f"{index * WINDOW:>4.0f}-{(index + 1) * WINDOW:<4.0f} {len(windows[index]):>9,} "
              f"{p50:>7.2f} {p99:>7.2f} {worst:>8.1f}")
    for generation, pauses in sorted(collections.items()):
        longest = max(pauses, default=0.0) * 1000
        print(f"the mock's generation-{generation} collections: {len(pauses):,}, "
              f"{sum(pauses) * 1000:,.0f} ms in all, longest {longest:.1f} ms")
    p50, p99, worst = _percentiles(level.latencies)
    ratio = p99 / p50
    print(f"whole run: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.1f} ms; p99/p50 "
          f"{ratio:.1f}x (target at most {FLAT:.0f}x: {'meets' if ratio <= FLAT else 'MISSES'})")
    return 0 if level.errors == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="most requests per level")
    parser.add_argument("--seconds", type=float, default=8.0, help="most seconds per level")
    parser.add_argument("--baseline", type=int, default=600, help="most baseline cases")
    parser.add_argument("--sustained", type=float, metavar="SECONDS",
                        help="instead: one sustained load this long (the issue's: 60)")
    parser.add_argument("--connections", type=int, default=32,
                        help="connections of the sustained load (default 32)")
    args = parser.parse_args()

    token = load_seed().locations[0].token
    request = orjson.loads(example_path("request").read_bytes())
    if args.sustained is not None:
        return sustained(args.sustained, args.connections, token, request)
    run = contract_run()  # first, while nothing else of this script loads the machine
    with mock_process() as url:
        port = int(url.rsplit(":", 1)[1])
        base_rate, base_count = baseline(url, token, request, args.baseline, args.seconds)
        raw = request_bytes(port, token, orjson.dumps(request))
        levels = [asyncio.run(_load(port, raw, n, args.requests, args.seconds))
                  for n in CONCURRENCY]
        stored = len(httpx.get(f"{url}/__mock__/invoices", timeout=60).json())

    served = sum(len(level.latencies) - level.errors for level in levels) + base_count
    errors = sum(level.errors for level in levels)
    best = max(level.rate for level in levels)
    if isinstance(run, str):
        print(f"default contract run: not measured: {run}")
    else:
        print(f"default contract run (ghl-contract run, embedded mock): {run[0]:,.0f} requests/s "
              f"over {run[1]} requests")
    print(f"one contract-suite case back to back (httpx documented request + check_payload): "
          f"{base_rate:,.0f} cases/s over {base_count} cases")
    print(f"{'concurrency':>11} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for level in levels:
        print(f"{level.concurrency:>11} {len(level.latencies):>9} {level.rate:>8,.0f} "
              f"{level.percentile(0.50):>7.2f} {level.percentile(0.99):>7.2f}")
    print(f"errors: {errors}; invoices in the store: {stored} of {served} conversions answered 200")
    print(f"mock throughput / back-to-back case rate: {best / base_rate:.1f}x")
    if not isinstance(run, str):
        ratio = best / run[0]
        print(f"mock throughput / default contract run rate: {ratio:.1f}x (target {TARGET:.0f}x: "
              f"{'meets' if ratio >= TARGET else 'MISSES'})")
    return 0 if errors == 0 and stored == served else 1


if __name__ == "__main__":
    sys.exit(main())
