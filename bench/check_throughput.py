"""How fast `ghl-contract check` goes over NDJSON, against a bare parse-and-validate loop.

Builds an NDJSON file of N documented 200 responses (small variations, all valid) and times, in
alternating rounds in this one process (the best round of each kept, as other work on a shared
machine only ever slows a round down):

- the bare loop: `for line in open(path, "rb"): validator.is_valid(orjson.loads(line))`, the same
  strict validator `check` uses, on one core; once as written (Python's default 8 KiB read
  buffer) and once with the 1 MiB buffer `check` reads NDJSON with, so that neither the ratio nor
  its reading gain hides;
- `check --jobs 1` end to end through `cli.run` (reading, parsing, validating, the payload
  invariants, the JSON report): one core;
- `check` as it runs by default: worker processes, one per core, past 16 MiB of input.

One-core measures are this process's CPU time (a round that waits for a core shared with other
work is not slower for it); the workers' measure is wall-clock time.

It prints payloads per second and each ratio against the bare loops; the single-core target is
0.9x. Plain python-jsonschema is timed on a sample, for scale. The load average is printed: the
multi-core figure means little when other processes hold the cores.

    python bench/check_throughput.py [--count 20000] [--rounds 7] [--sample 300]
"""

from __future__ import annotations

import argparse
import io
import os
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
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (best kept)")
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
            "ghl-contract check (default: workers)": check(),
        }
        check()()  # warm up: compiles the validators once, as any real run does
        best = dict.fromkeys(measures, float("inf"))
        for _ in range(args.rounds):
            for name, action in measures.items():
                # one core: this process's CPU time, which waiting for a shared core does not
                # inflate; workers: the wall clock, as their CPU time is not this process's
                clock = time.perf_counter if "workers" in name else time.process_time
                start = clock()
                action()
                best[name] = min(best[name], clock() - start)

    sample = [orjson.loads(line) for line in variants(args.sample)]
    plain = jsonschema.Draft202012Validator(
        registry.schema(schema), registry=registry.referencing,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    start = time.perf_counter()
    for payload in sample:
        plain.is_valid(payload)
    python_jsonschema = len(sample) / (time.perf_counter() - start)

    rate = {name: args.count / seconds for name, seconds in best.items()}
    bare8, bare1m, one, many = rate.values()
    print(f"{args.count} payloads, {size / args.count / 1000:.1f} kB each ({size / 1e6:.1f} MB); "
          f"best of {args.rounds} alternating rounds; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    print(f"{'measure':<44} {'payloads/s':>11} {'vs 8 KiB loop':>14} {'vs 1 MiB loop':>14}")
    for name, value in rate.items():
        print(f"{name:<44} {value:>11,.0f} {value / bare8:>13.2f}x {value / bare1m:>13.2f}x")
    print(f"{'python-jsonschema Draft202012Validator':<44} {python_jsonschema:>11,.0f} "
          f"{'':>14} {'check is ' + format(one / python_jsonschema, '.0f') + 'x':>14}")
    verdict = "meets" if one >= TARGET * bare8 else "MISSES"
    print(f"one core: check --jobs 1 is {one / bare8:.2f}x the bare loop as written "
          f"({one / bare1m:.2f}x with its read buffer): {verdict} the {TARGET}x target")
    print(f"all cores: check is {many / bare8:.2f}x the one-core bare loop "
          f"({many / one:.2f}x check on one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
