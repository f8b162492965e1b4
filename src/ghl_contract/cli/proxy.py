"""`ghl-contract proxy`: forward a team's own traffic to the upstream and judge it, until stopped.

Its first line on standard output is its URL; the findings follow as NDJSON (or go to
DIR/findings.ndjson with --report-dir), one a line as they happen; what it says besides goes to
standard error. Ctrl-C or SIGTERM stops it: the exchanges in flight finish (within the server's
grace period), the reports are written, and it exits 0 (no breaking finding), 1 (breaking) or 2
(a usage error, or an upstream that does not answer at start).
"""

from __future__ import annotations

import argparse
import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import TextIO

from ghl_contract.baseline import from_options
from ghl_contract.cli.contract import add_contract_arguments, apply_contract
from ghl_contract.errors import UsageError
from ghl_contract.proxy import ProxyOptions, start
from ghl_contract.proxy.reports import FILES, JUNIT_NAME, summary, write_reports
from ghl_contract.proxy.service import DEFAULT_PORT, DEFAULT_TIMEOUT
from ghl_contract.proxy.stream import FILE_NAME
from ghl_contract.proxy.upstream import check_reachable, checked_url

START_CHECK_TIMEOUT = 10.0  # seconds for the one request that checks the upstream at start
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
    parser.add_argument("--baseline", metavar="FILE", default=None,
                        help="A baseline file (`ghl-contract baseline`): the findings it lists are "
                             "acknowledged in the reports on stop and never fail the exit code.")
    parser.add_argument("--strict-baseline", action="store_true",
                        help="Also exit 1 when an entry of --baseline no longer occurs.")
    parser.add_argument("--upstream", required=True, metavar="URL",
                        help="Where to forward: the API's base URL (a sandbox, "
                             "https://services.leadconnectorhq.com, or `ghl-contract mock`).")
    parser.add_argument("--host", default="127.0.0.1",
                        help="Address to listen on (default 127.0.0.1: this machine only).")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"Port to listen on (default {DEFAULT_PORT}; 0 picks a free one).")
    parser.add_argument("--report-dir", type=Path, metavar="DIR",
                        help=f"Stream the findings to DIR/{FILE_NAME} instead of standard "
                             f"output, and write {', '.join(FILES.values())} and {JUNIT_NAME} "
                             "there when stopped.")
    parser.add_argument("--record", type=Path, metavar="DIR",
                        help="Keep every exchange, redacted, as a HAR file in DIR "
                             "(`ghl-contract check` reads it).")
    parser.add_argument("--enforce", action="store_true",
                        help="Replace an answer that breaks the contract by a 502 whose JSON "
                             "body lists the findings (the answer waits for its judgement).")
    parser.add_argument("--request-timeout", type=float, default=DEFAULT_TIMEOUT,
                        metavar="SECONDS",
                        help=f"Seconds for a whole exchange with the upstream (default "
                             f"{DEFAULT_TIMEOUT:g}); past it the client gets a 502.")


def _options(args: argparse.Namespace) -> ProxyOptions:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port (0-65535).")
    if not math.isfinite(args.request_timeout) or args.request_timeout <= 0:
        raise UsageError(f"--request-timeout must be greater than 0, not {args.request_timeout}.")
    for flag, directory in (("--report-dir", args.report_dir), ("--record", args.record)):
        if directory is not None and directory.exists() and not directory.is_dir():
            raise UsageError(f"{flag} {directory} is a file, not a directory.")
    return ProxyOptions(upstream=checked_url(args.upstream), host=args.host, port=args.port,
                        enforce=args.enforce, record_dir=args.record,
                        timeout=args.request_timeout)


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, stopping)
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _findings_file(directory: Path | None) -> TextIO | None:
    if directory is None:
        return None
    path = directory / FILE_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"The findings cannot be written to {path}: "
                         f"{exc.strerror or exc}.") from None


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO,
            stop: threading.Event | None = None) -> int:
    """Serve until `stop` is set (by SIGINT or SIGTERM when None is given)."""
    apply_contract(args)
    baseline = from_options(args.baseline, args.strict_baseline)  # one sentence if it is bad
    options = _options(args)
    check_reachable(options.upstream, min(START_CHECK_TIMEOUT, options.timeout))
    stop = stop or threading.Event()
    findings_file = _findings_file(args.report_dir)
    with (_stopped_by_signals(stop), findings_file or nullcontext(),
          start(options, findings_file or stdout) as running):
        stdout.write(f"ghl-contract proxy listening on {running.url}\n")
        stdout.flush()
        if options.host not in _LOOPBACK:
            stderr.write(f"warning: listening on {options.host}: whoever reaches it can use "
                         "the upstream through it, with their own credentials.\n")
        where = args.report_dir / FILE_NAME if args.report_dir else "standard output (NDJSON)"
        stderr.write(f"forwarding to {options.upstream}; findings to {where}"
                     f"{'; --enforce: a breaking answer becomes a 502' if options.enforce else ''}"
                     ". Press Ctrl-C to stop.\n")
        stderr.flush()
        died = False
        while not stop.wait(0.5):
            if not running.server.thread.is_alive():
                stderr.write("error: the proxy's server stopped on its own.\n")
                died = True
                break
    report = running.report()
    if baseline is not None:  # acknowledged findings are reported, never failing
        baseline.apply(report)
    paths = (write_reports(report, args.report_dir, running.secrets, running.session.operations)
             if args.report_dir else [])
    stderr.write("\n".join(running.secrets.text(line) for line in summary(report, paths)) + "\n")
    return max(report.exit_code(strict_baseline=args.strict_baseline), 1 if died else 0)
