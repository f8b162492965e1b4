"""Peak memory of the run's HTTP client against hostile answers, against an honest one.

Each scenario runs in a child process of its own: a loopback server answers three conversions (the
documented answer; a 4 GiB gzip bomb, plain and gzip-over-gzip; a body without end), and the
client, with the run's default limits and a HAR recording, reads them. The child reports its peak
resident memory (ru_maxrss), which this script compares with the honest answer's, in the same
session, and with the bound: under 150 MB for any answer with the default limits (16 MiB of body
raw and decoded, 1 MiB recorded per body).

    python bench/transport_memory.py [--requests 3]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghl_contract.transport.testing import Behaviour

BOUND_MB = 150
SCENARIOS = ("honest", "gzip-bomb", "gzip-gzip-bomb", "endless-body")


def _behaviour(scenario: str) -> Behaviour:
    """What the server answers every request with."""
    from ghl_contract.resources import example_path
    from ghl_contract.transport.testing import Raw, Reply

    json_type = ("Content-Type", "application/json")
    if scenario == "honest":
        honest = Reply(200, (json_type,), example_path("response-200").read_bytes())
        return lambda request, index: honest
    bomb = gzip.compress(b"\0" * 2**20, 9) * 4096  # 4 GiB of zeros in 4 MiB
    if scenario == "gzip-bomb":
        once = Reply(200, (json_type, ("Content-Encoding", "gzip")), bomb)
        return lambda request, index: once
    if scenario == "gzip-gzip-bomb":
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        twice = packer.compress(bomb) + packer.flush()  # about 10 kB
        gzip_gzip = Reply(200, (json_type, ("Content-Encoding", "gzip, gzip")), twice)
        return lambda request, index: gzip_gzip
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99999999999\r\n\r\n")
    return lambda request, index: Raw(itertools.chain([head], itertools.repeat(b"[0," * 20000)))


def child(scenario: str, requests: int) -> None:
    """Run one scenario and print what it cost, as JSON."""
    from ghl_contract.transport import open_client
    from ghl_contract.transport.testing import convert, live_settings, serve

    with tempfile.TemporaryDirectory(prefix="ghl-bench-") as record, \
            serve(_behaviour(scenario)) as server:
        settings = live_settings(server.url, allow_writes=True, max_writes=requests,
                                 record_dir=Path(record), request_timeout=30.0)
        rules: list[str] = []
        started = time.perf_counter()
        with open_client(settings, base_url=server.url, token="bench-token-0000") as client:
            for _ in range(requests):
                exchange = convert(client, {"altId": "loc-1", "altType": "location"})
                rules += [fault.rule for fault in exchange.faults]
        elapsed = time.perf_counter() - started
        har = (Path(record) / "exchanges.har").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps({"peak_mb": peak, "har_bytes": har, "rules": sorted(set(rules)),
                      "seconds": elapsed}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3, help="answers read per scenario")
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests)
        return 0
    results = {}
    for scenario in SCENARIOS:
        done = subprocess.run([sys.executable, __file__, "--child", scenario,
                               "--requests", str(args.requests)],
                              capture_output=True, text=True, check=True)
        results[scenario] = json.loads(done.stdout)
    base = results["honest"]["peak_mb"]
    print(f"{'scenario':16} {'peak MB':>8} {'x honest':>9} {'HAR kB':>8} {'s':>6}  findings")
    for scenario, result in results.items():
        print(f"{scenario:16} {result['peak_mb']:8.1f} {result['peak_mb'] / base:9.2f} "
              f"{result['har_bytes'] / 1024:8.0f} {result['seconds']:6.2f}  "
              f"{', '.join(result['rules']) or '-'}")
    worst = max(result["peak_mb"] for result in results.values())
    verdict = "meets" if worst < BOUND_MB else "MISSES"
    print(f"bound under {BOUND_MB} MB with the default limits: {verdict} ({worst:.1f} MB)")
    return 0 if worst < BOUND_MB else 1


if __name__ == "__main__":
    sys.exit(main())
