"""`ghl-contract mock`: serve the mock of the manifest's operations on loopback until interrupted.

It prints its URL first, then every route it serves, the tokens, locations and estimates it
accepts, so that a curl or `ghl-contract run --base-url` can be pointed at it. The tokens are the
seed's own, made up for the mock: they open nothing else. Ctrl-C (or SIGTERM) stops it cleanly
with exit code 0.
"""

from __future__ import annotations

import argparse
import gc
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

from ghl_contract.cli.contract import add_contract_arguments, apply_contract
from ghl_contract.errors import UsageError
from ghl_contract.mock.app import ESTIMATES_ROUTE, STORE_ROUTE, MockApp
from ghl_contract.mock.behaviour import BEHAVIOURS
from ghl_contract.mock.profiles import DRIFT_PROFILES, FAULT_PROFILES
from ghl_contract.mock.seed import Seed, load_seed
from ghl_contract.mock.server import serve
from ghl_contract.settings import parse_rate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="Address to listen on (default 127.0.0.1: this machine only).")
    parser.add_argument("--port", type=int, default=4010,
                        help="Port to listen on (default 4010; 0 picks a free one).")
    parser.add_argument("--seed", type=Path, metavar="FILE",
                        help="Seed JSON: locations, tokens and estimates (default: the packaged "
                             "one, with the documented estimate).")
    parser.add_argument("--profile", default="documented", metavar="NAME",
                        help="Answer as HighLevel documents (documented, the default) or as the "
                             "live API was seen to (observed); --drift and --fault apply on top.")
    parser.add_argument("--drift", metavar="NAME",
                        help="Change every answer of one operation and status this way (see "
                             "--list-profiles).")
    parser.add_argument("--fault", metavar="NAME",
                        help="Break every answer of the API this way (see --list-profiles).")
    parser.add_argument("--fault-delay", type=float, default=15.0, metavar="SECONDS",
                        help="How long the slow fault waits before answering (default 15).")
    parser.add_argument("--rate-limit", default="100/10s", metavar="N/PERIOD",
                        help="Burst limit per location, e.g. 100/10s (HighLevel's) or 25/10s.")
    parser.add_argument("--list-profiles", action="store_true",
                        help="List the drift and fault profiles and exit.")


def profiles_text() -> str:
    """The behaviour, drift and fault profiles, one a line, as `--list-profiles` prints them."""
    width = max(len(name) for name in (*BEHAVIOURS, *DRIFT_PROFILES, *FAULT_PROFILES))
    lines = ["Behaviour profiles (--profile NAME; a drift or fault applies on top of either)."]
    for behaviour in BEHAVIOURS.values():
        lines.append(f"  {behaviour.name:<{width}}  {behaviour.description}")
    lines.append("Drift profiles (--drift NAME): the suite must report RULE at POINTER.")
    for drift in DRIFT_PROFILES.values():
        where = drift.pointer or "(whole answer)"
        lines.append(f"  {drift.name:<{width}}  {drift.rule} at {where} "
                     f"({drift.operation} {drift.status} answers): {drift.description}")
    lines.append("Fault profiles (--fault NAME): the suite must report RULE.")
    for fault in FAULT_PROFILES.values():
        lines.append(f"  {fault.name:<{width}}  {fault.rule}: {fault.description}")
    return "\n".join(lines) + "\n"


def banner(url: str, app: MockApp, rate: str) -> str:
    """What the running mock tells its user: the URL first, then what it accepts."""
    seed: Seed = app.seed
    width = max(len(op.path) for op in app.served)
    lines = [
        f"ghl-contract mock listening on {url}",
        *(f"  {op.method:<6} {url}{op.path:<{width}}  {op.id} ({op.success.status})"
          for op in app.served),
        f"  headers: Authorization: Bearer <token>, Version: {' or '.join(app.versions)}",
        f"  the mock's state: GET {url}{STORE_ROUTE}, GET {url}{ESTIMATES_ROUTE}",
        f"  profile: {app.behaviour.name}; drift: {app.drift.name if app.drift else 'none'}; "
        f"fault: {app.fault.name if app.fault else 'none'}; rate limit: {rate} per location",
        f"  seed: {seed.source or 'packaged default'}",
    ]
    for location in seed.locations:
        lines.append(f"location {location.location_id} (altId), token {location.token}")
        for estimate_id, estimate in location.estimates.items():
            lines.append(f"  estimate {estimate_id}  {estimate['currency']}  {estimate['name']}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines) + "\n"


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the mock as Ctrl-C does (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    apply_contract(args)
    if args.list_profiles:
        stdout.write(profiles_text())
        return 0
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port (0-65535).")
    if args.fault_delay < 0:
        raise UsageError(f"--fault-delay {args.fault_delay} must not be negative.")
    rate = parse_rate(args.rate_limit)
    app = MockApp(load_seed(args.seed), profile=args.profile, drift=args.drift, fault=args.fault,
                  rate_limit=rate, fault_delay=args.fault_delay)
    with _sigterm_interrupts(), serve(app, args.host, args.port) as running:
        stdout.write(banner(running.url, app, args.rate_limit))
        stdout.flush()
        # What is loaded by now (schemas, validators, the seed, the server) lives as long as the
        # mock: frozen, a full collection under load no longer walks it.
        gc.freeze()
        try:
            while not running.ended.wait(0.5):
                pass
        except KeyboardInterrupt:
            stdout.write("Stopped.\n")
            return 0
    print("error: the mock server stopped on its own.", file=stderr)
    return 1
