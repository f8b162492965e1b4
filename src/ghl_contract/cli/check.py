"""`ghl-contract check PATH...`: every difference between captured payloads and the contract.

Exit codes: 0 no breaking finding (non-breaking ones are still printed), 1 at least one breaking
finding (any finding with --strict), 2 a usage or input error. An input problem (a missing path,
an unreadable file or directory, a line that is not JSON) is reported with its file and line
after every other payload was checked and printed, and the exit code is then 2 whatever the
findings.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TextIO

from ghl_contract import readers, reporters
from ghl_contract.baseline import from_options
from ghl_contract.errors import UsageError
from ghl_contract.findings import Report
from ghl_contract.judge import check_body, check_payload
from ghl_contract.operations import Operation
from ghl_contract.readers import Item, Note, Payload, Problem, Source
from ghl_contract.readers.document import unreadable
from ghl_contract.readers.ndjson import read_lines
from ghl_contract.registry import PAYLOAD_KINDS, ContractRegistry, pinned

# An NDJSON file this large is checked by worker processes, one per core: parsing and validating
# are CPU-bound and a process starts in milliseconds (fork), so from here on it pays for itself.
PARALLEL_MIN_BYTES = 16 << 20
_CHUNK_BYTES = 1 << 20  # lines handed to a worker at a time (about 300 documented payloads)
_IN_FLIGHT_PER_JOB = 2  # chunks queued per worker: enough to keep it busy, memory stays flat


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="A .json file (one payload), an .ndjson/.jsonl file (one payload per line), a .har "
             "file (every exchange of a known operation, each judged by its own contract), a "
             "directory of such files, or - for standard input (NDJSON or one JSON document).")
    parser.add_argument(
        "--operation", metavar="ID", default=None,
        help="The operation bare payloads belong to (an operationId of `ghl-contract openapi`; "
             "default: the manifest's primary one); HAR entries name theirs.")
    parser.add_argument(
        "--kind", metavar="KIND", default=None,
        help=f"What the payloads are: {', '.join(PAYLOAD_KINDS)} (the operation's request, "
             "success or error body), or a schema of the contract by name (estimate, invoice...); "
             "default: response. HAR entries say it themselves.")
    parser.add_argument(
        "--status", type=int, metavar="N", default=None,
        help="HTTP status the bodies came with: picks the error schema (400, 401, 422...); "
             "without --kind it means --kind error (or response for the operation's success).")
    parser.add_argument("--format", choices=list(reporters.FORMATS), default="text",
                        help="text for people (default), json for machines, markdown for CI.")
    parser.add_argument("--strict", action="store_true",
                        help="Exit 1 on any finding, non-breaking ones (added fields) too.")
    parser.add_argument("--baseline", metavar="FILE", default=None,
                        help="A baseline file (ghl-contract baseline): the findings it lists are "
                             "shown as acknowledged and never fail.")
    parser.add_argument("--strict-baseline", action="store_true",
                        help="Exit 1 too when an entry of --baseline matches no finding.")
    parser.add_argument(
        "--jobs", type=int, metavar="N", default=None,
        help="Processes that check an NDJSON file (default: one per core, at most 8, for files "
             f"over {PARALLEL_MIN_BYTES >> 20} MB; 1 checks everything in this process). Never "
             "more than the cores or than the file has 1 MB chunks.")


def payload_kind(kind: str | None, status: int | None,
                 operation: Operation) -> tuple[str, int | None]:
    """The kind and status the payloads are checked as, from --kind and --status."""
    if kind is not None:
        pinned().payload_schema(kind, operation, status)  # a known kind, or one sentence
    success = operation.success.status
    if status is None:
        return kind or "response", None
    if not 100 <= status <= 599:
        raise UsageError(f"--status {status} is not an HTTP status (100-599).")
    if kind is None:
        return ("response" if status == success else "error"), status
    if kind == "error" or (kind == "response" and status == success):
        return kind, status
    if kind == "response":
        raise UsageError(f"--status {status} does not go with --kind response (a {success} body "
                         f"of {operation.id}); use --kind error.")
    raise UsageError(f"--status applies to response and error bodies, not to --kind {kind}.")


def check(items: Iterable[Item], registry: ContractRegistry | None = None,
          operation: Operation | None = None) -> Report:
    """Check every payload of `items` (bare ones as payloads of `operation`, by default the
    primary one); problems and notes go into the report as they come."""
    report = Report()
    findings, problems, notes = report.findings, report.problems, report.notes
    checked = 0
    for item in items:
        if type(item) is Payload:
            checked += 1
            if item.raw is None:
                found = check_payload(item.data, item.kind, operation=operation,
                                      source=item.source, status=item.status, registry=registry)
            else:
                found = check_body(item.raw, item.kind, operation=item.operation or operation,
                                   source=item.source, status=item.status,
                                   content_type=item.content_type, headers=item.headers,
                                   request=item.request, path=item.path, expect=item.expect,
                                   registry=registry)
            if found:
                findings.extend(found)
        elif isinstance(item, Problem):
            problems.append(item.message)
        elif isinstance(item, Note):
            notes.append(item.message)
    report.checked = checked
    return report


def _stdin() -> Iterator[bytes]:
    """Standard input as lines of bytes, looked up only when `-` is read."""
    stream = sys.stdin
    if stream is None:
        raise UsageError("Standard input (-) is not available to this process.")
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        yield from buffer
    else:  # a text stream without bytes underneath (tests pass io.StringIO)
        for line in stream:
            yield line.encode()


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform says it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _jobs(requested: int | None, source: Source) -> int:
    """How many worker processes check `source`: 1 means this process does it.

    --jobs N is an upper bound, clamped silently: the work is CPU-bound, so a worker beyond the
    cores or beyond the file's chunks only costs a process (and a huge N would fork that many).
    """
    path = source.path
    if path is None or path.suffix.lower() not in (".ndjson", ".jsonl") or requested == 1:
        return 1
    try:
        size = path.stat().st_size
    except OSError:
        return 1  # the reader reports it
    if requested is None:
        # fork is what makes workers cheap; it is only safe before any thread was started
        if size < PARALLEL_MIN_BYTES or not _fork_safe():
            return 1
        requested = 8
    chunks = -(-size // _CHUNK_BYTES)
    return max(1, min(requested, _cores(), chunks))


def _fork_safe() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _check_chunk(path: str, name: str, kind: str, status: int | None, operation_id: str,
                 offset: int, size: int, start: int) -> Report:
    """A worker's share: `size` bytes of an NDJSON file from `offset`, whole lines numbered from
    `start`. The worker reads them itself, so only these few numbers cross between processes."""
    with open(path, "rb") as stream:  # noqa: PTH123 (a str path: cheaper to send than a Path)
        stream.seek(offset)
        lines = stream.read(size).split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the chunk's final line break, not a line
    if offset == 0:
        lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
    return check(read_lines(lines, name, kind, status, start),
                 operation=pinned().operation(operation_id))


def _merge(report: Report, part: Report) -> None:
    report.checked += part.checked
    report.findings.extend(part.findings)
    report.problems.extend(part.problems)
    report.notes.extend(part.notes)


def check_parallel(path: Path, name: str, kind: str, status: int | None, operation: Operation,
                   jobs: int) -> Report:
    """Check one NDJSON file with `jobs` worker processes; findings keep the file's order.

    This process hands out chunks of whole lines (where they start, how long, their first line
    number); at most a few chunks per worker are in flight, so memory stays flat whatever the
    file's size.
    """
    report = Report()
    # compiled once here, inherited by forked workers
    pinned().validator(pinned().payload_schema(kind, operation, status), strict=True)
    method = "fork" if _fork_safe() else "spawn"
    pool = multiprocessing.get_context(method).Pool(jobs)
    pending: deque[AsyncResult[Report]] = deque()
    try:
        with path.open("rb") as stream:
            offset, start = 0, 1
            # this process only finds where chunks of whole lines begin and counts their lines
            while chunk := stream.read(_CHUNK_BYTES) + stream.readline():
                pending.append(pool.apply_async(
                    _check_chunk, (str(path), name, kind, status, operation.id, offset,
                                   len(chunk), start)))
                offset += len(chunk)
                start += chunk.count(b"\n") + (not chunk.endswith(b"\n"))
                if len(pending) >= jobs * _IN_FLIGHT_PER_JOB:
                    _merge(report, pending.popleft().get())
        while pending:
            _merge(report, pending.popleft().get())
        pool.close()
    except OSError as exc:
        while pending:  # what was read before the error is still checked and reported
            _merge(report, pending.popleft().get())
        report.problems.append(unreadable(name, exc).message)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
    return report


def check_sources(sources: Iterable[Source], *, kind: str, status: int | None,
                  operation: Operation | None = None, jobs: int | None = None) -> Report:
    """Every payload of `sources`, in order (bare ones as payloads of `operation`, by default the
    primary one); large NDJSON files go to worker processes."""
    contract = pinned()
    operation = operation or contract.manifest.primary
    report = Report()
    for source in sources:
        workers = _jobs(jobs, source)
        if workers > 1 and source.path is not None:
            _merge(report, check_parallel(source.path, source.name, kind, status, operation,
                                          workers))
        else:
            _merge(report, check(readers.read([source], kind=kind, status=status,
                                              stdin=_stdin(), manifest=contract.manifest),
                                 operation=operation))
    return report


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    operation = pinned().operation(args.operation)
    kind, status = payload_kind(args.kind, args.status, operation)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs} must be 1 or more.")
    baseline = from_options(args.baseline, args.strict_baseline)  # a bad file: before any work
    sources = readers.resolve(args.paths)
    report = check_sources(sources, kind=kind, status=status, operation=operation,
                           jobs=args.jobs)
    if baseline is not None:
        baseline.apply(report)
    if not report.checked and not report.problems:
        report.problems.append(f"Nothing was checked: {' '.join(args.paths)} held no payload.")
    reporters.write(args.format, report, stdout)
    if args.format != "text":
        # the report went to a file or a pipe: say on the terminal why the exit code is 2
        for problem in report.problems:
            print(f"error: {problem}", file=stderr)
    return report.exit_code(strict=args.strict, strict_baseline=args.strict_baseline)
