"""How fast `ghl-contract check` goes over NDJSON, against a bare parse-and-validate loop.

Builds an NDJSON file of N documented 200 responses (small variations, all valid) and times, in
alternating rounds in this one process:

- the bare loop: `for line in open(path, "rb"): validator.is_valid(orjson.loads(line))`, the same
  strict validator `check` uses, on one core; once as written (Python's default 8 KiB read
  buffer) and once with the 1 MiB buffer `check` reads NDJSON with, so that neither the ratio nor
  its reading gain hides;
- `check --jobs 1` end to end through `cli.run` (reading, parsing, validating, the payload
  invariants, the JSON report): one core;
- `check` as it runs by default: worker processes, one per core, past 16 MiB of input, against
  `check --jobs 1`, both by the wall clock.

One-core measures are this process's CPU time (a round that waits for a core shared with other
work is not slower for it); the workers' measure, and the one it is compared with, are
wall-clock time.

It prints the best payloads per second of each, and its ratio against the bare loop in each
round (median and range: both measures of a round saw the same machine, near enough); the
single-core target is 0.9x. Plain python-jsonschema is timed on a sample, for scale. The load
average is printed: the multi-core figure means little when other processes hold the cores.

    python bench/check_throughput.py [--count 20000] [--rounds 9] [--sample 300]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
import orjson

from ghl_contract.cli import run
from ghl_contract.registry import pinned

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payloads import variants  # a sibling module of this script

TARGET = 0.9  # `check --jobs 1` against the bare loop on one core


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="payloads in the NDJSON file")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds")
    parser.add_argument("--sample", type=int, default=300,
                        help="payloads for the python-jsonschema baseline")
    args = parser.parse_args()

    registry = pinned()
    schema = registry.manifest.primary.success.schema
    validator = registry.validator(schema, strict=True)
    with tempfile.TemporaryDirectory(prefix="ghl-bench-") as tmp:
        path = Path(tmp) / "responses.ndjson"
        with path.open("wb") as out:
            out.writelines(variants(args.count))
        size = path.stat().st_size

        def bare(buffering: int) -> Callable[[], None]:
            def loop() -> None:
                is_valid, loads = validator.is_valid, orjson.loads
                with path.open("rb", buffering=buffering) as stream:
                    for line in stream:
                        if not is_valid(loads(line)):
                            raise SystemExit("the benchmark's payloads must all be valid")
            return loop

        def check(*options: str) -> Callable[[], None]:
            def command() -> None:
                stdout, stderr = io.StringIO(), io.StringIO()
                code = run(["check", str(path), "--format", "json", *options], stdout, stderr)
                if code != 0:
                    raise SystemExit(f"check exited {code}: {stdout.getvalue()[:500]}")
            return command

        measures: dict[str, Callable[[], None]] = {
            "bare loop (default 8 KiB buffer), 1 core": bare(-1),
            "bare loop (1 MiB buffer), 1 core": bare(1 << 20),
            "ghl-contract check --jobs 1": check("--jobs", "1"),
            "ghl-contract check --jobs 1, wall clock": check("--jobs", "1"),
            "ghl-contract check (default: workers)": check(),
        }
        check()()  # warm up: compiles the validators once, as any real run does
        rounds: list[dict[str, float]] = []
        for _ in range(args.rounds):
            took = {}
            for name, action in measures.items():
                # one core: this process's CPU time, which waiting for a shared core does not
                # inflate; workers: the wall clock, as their CPU time is not this process's
                clock = time.perf_counter if "wor" in name or "wall" in name else time.process_time
                start = clock()
                action()
                took[name] = clock() - start
            rounds.append(took)

    sample = [orjson.loads(line) for line in variants(args.sample)]
    plain = jsonschema.Draft202012Validator(
        registry.schema(schema), registry=registry.referencing,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    start = time.perf_counter()
    for payload in sample:
        plain.is_valid(payload)
    python_jsonschema = len(sample) / (time.perf_counter() - start)

    names = list(measures)
    bare8, bare1m, one, one_wall, many = names

    def ratios(name: str, baseline: str) -> list[float]:
        """`name` against `baseline` in each round: both saw the same machine, near enough."""
        return sorted(took[baseline] / took[name] for took in rounds)

    best = {name: args.count / min(took[name] for took in rounds) for name in names}
    print(f"{args.count} payloads, {size / args.count / 1000:.1f} kB each ({size / 1e6:.1f} MB); "
          f"{args.rounds} alternating rounds; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores")
    print(f"{'measure':<44} {'best/s':>9} {'vs 8 KiB loop, median (range) of rounds':>42}")
    for name in names:
        each = ratios(name, bare8)
        print(f"{name:<44} {best[name]:>9,.0f} {statistics.median(each):>15.2f}x "
              f"({each[0]:.2f}-{each[-1]:.2f})")
    print(f"{'python-jsonschema Draft202012Validator':<44} {python_jsonschema:>9,.0f} "
          f"{'(check --jobs 1 is ' + format(best[one] / python_jsonschema, '.0f') + 'x it)':>42}")
    single = statistics.median(ratios(one, bare8))
    verdict = "meets" if single >= TARGET else "MISSES"
    print(f"one core: check --jobs 1 is {single:.2f}x the bare loop as written, median of rounds "
          f"({statistics.median(ratios(one, bare1m)):.2f}x with its read buffer): {verdict} the "
          f"{TARGET}x target")
    print(f"all cores: check is {statistics.median(ratios(many, one_wall)):.2f}x check on one "
          "core, both by the wall clock")
    return 0


if __name__ == "__main__":
    sys.exit(main())
