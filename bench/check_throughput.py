"""How fast `ghl-contract check` goes over NDJSON of documented-size valid responses.

Builds an NDJSON file of N documented 200 responses (small variations, all valid), times `check`
end to end in-process (the real code path: `cli.run`, reading, parsing, validating, invariants,
the JSON report), once as it runs by default (worker processes for a large file) and once with
--jobs 1, and prints payloads per second with ratios against baselines measured in the same run
on the same payloads: orjson parsing alone, jsonschema-rs `is_valid` alone, and plain
python-jsonschema's Draft202012Validator (on a sample: it is slow). Timings on a shared machine
vary: the load average is printed with them.

    python bench/check_throughput.py [--count 40000] [--sample 300] [--repeat 3]
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

TARGET = 20_000  # payloads per second the issue asks of `check` on this 2-core machine


def _rate(count: int, action: Callable[[], object], repeat: int) -> float:
    """Payloads per second: the best of `repeat` timings of `action` over `count` payloads."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return count / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40_000, help="payloads in the NDJSON file")
    parser.add_argument("--sample", type=int, default=300,
                        help="payloads for the python-jsonschema baseline")
    parser.add_argument("--repeat", type=int, default=3, help="timings per measure (best kept)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ghl-bench-") as tmp:
        path = Path(tmp) / "responses.ndjson"
        with path.open("wb") as out:
            out.writelines(variants(args.count))
        lines = path.read_bytes().splitlines()
        size = path.stat().st_size
        payloads = [orjson.loads(line) for line in lines]

        def check(*options: str) -> None:
            stdout, stderr = io.StringIO(), io.StringIO()
            code = run(["check", str(path), "--format", "json", *options], stdout, stderr)
            if code != 0:
                raise SystemExit(f"check exited {code}: {stdout.getvalue()[:500]}")

        check()  # warm up: compiles the validators once, as any real run does
        checked = _rate(args.count, check, args.repeat)
        one_process = _rate(args.count, lambda: check("--jobs", "1"), args.repeat)

    def parse() -> None:
        for line in lines:
            orjson.loads(line)

    registry = pinned()
    fast = registry.validator("response-200.json", strict=True)

    def rs_validate() -> None:
        for payload in payloads:
            fast.is_valid(payload)

    plain = jsonschema.Draft202012Validator(
        registry.schema("response-200.json"), registry=registry.referencing,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    sample = payloads[: args.sample]

    def py_validate() -> None:
        for payload in sample:
            plain.is_valid(payload)

    parsed = _rate(args.count, parse, args.repeat)
    rs = _rate(args.count, rs_validate, args.repeat)
    py = _rate(len(sample), py_validate, 1)

    print(f"{args.count} payloads, {size / args.count / 1000:.1f} kB each on average "
          f"({size / 1e6:.1f} MB)")
    print(f"{'measure':<44} {'payloads/s':>11} {'check is':>10}   (load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    rows = [
        ("ghl-contract check (end to end, in-process)", checked),
        ("ghl-contract check --jobs 1 (no workers)", one_process),
        ("orjson parse alone", parsed),
        ("jsonschema-rs is_valid alone (pre-parsed)", rs),
        ("python-jsonschema Draft202012Validator", py),
    ]
    for name, rate in rows:
        ratio = "" if rate is checked else f"{checked / rate:.2f}x"
        print(f"{name:<44} {rate:>11,.0f} {ratio:>10}")
    verdict = "meets" if checked >= TARGET else "MISSES"
    print(f"target {TARGET:,}/s: {verdict} ({checked / TARGET:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
