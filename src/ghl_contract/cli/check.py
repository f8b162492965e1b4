"""`ghl-contract check PATH...`: every difference between captured payloads and the contract.

Exit codes: 0 no breaking finding (non-breaking ones are still printed), 1 at least one breaking
finding (any finding with --strict), 2 a usage or input error. An input problem (a missing path,
an unreadable file or directory, a line that is not JSON or over the line limit, a document over
the document limit, a worker process that died) is reported with its file and line after every
other payload was checked and printed, and the exit code is then 2 whatever the findings.

Speed: an NDJSON line costs its parse, one `is_valid` call and the payload invariants, with no
object of its own unless it has a finding (`_check_lines`). Past `PARALLEL_MIN_BYTES` of input
the work goes to worker processes, one per core, in order: ranges of lines of a large NDJSON file
(each worker reads its own), batches of lines from standard input, and groups of small files.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import stat
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import orjson

from ghl_contract import readers, reporters
from ghl_contract.baseline import from_options
from ghl_contract.cli.contract import add_contract_arguments, apply_contract
from ghl_contract.errors import UsageError
from ghl_contract.findings import Report
from ghl_contract.invariants import payload_checks
from ghl_contract.judge import check_body, check_parameters, check_payload, payload_objects
from ghl_contract.operations import Operation
from ghl_contract.readers import (
    InputProblem,
    Item,
    Limits,
    Lines,
    Note,
    Parameters,
    Payload,
    Problem,
    Source,
)
from ghl_contract.readers.document import too_long, too_many_values, unreadable
from ghl_contract.readers.ndjson import line_problem
from ghl_contract.registry import PAYLOAD_KINDS, ContractRegistry, pinned
from ghl_contract.settings import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_LINE_BYTES,
    MAX_VALUES,
    is_http_url,
)

# Past this much input, worker processes check it, one per core: parsing and validating are
# CPU-bound and a forked process starts in milliseconds, so from here on they pay for themselves
# even when other work holds a core part of the time (below it, on a busy machine, the workers
# cost more than they give: a 4 MiB file took 1.5 times as long with two).
PARALLEL_MIN_BYTES = 16 << 20
_CHUNK_BYTES = 1 << 20  # input handed to a worker at a time (about 300 documented payloads)
_IN_FLIGHT_PER_JOB = 2  # chunks queued per worker: enough to keep it busy, memory stays flat


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
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
        "--base-url", metavar="URL", default=None,
        help="Judge only the HAR entries under this URL, their paths read from it (a browser's "
             "capture holds the application's other hosts too); default: every entry whose path "
             "matches an operation.")
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
        help="Processes that check the input (default: one per core, at most 8, past "
             f"{PARALLEL_MIN_BYTES >> 20} MiB of input; 1 checks everything in this process). "
             "Never more than the cores or than the input has 1 MiB chunks.")
    for limit in (MAX_LINE_BYTES, MAX_DOCUMENT_BYTES, MAX_VALUES):
        parser.add_argument(
            str(limit.flag), metavar="BYTES" if limit.unit == "bytes" else "N", default=None,
            help=f"{limit.help} Default: {limit.shown(limit.default)}, or ${limit.env}.")


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
    for item in items:
        if type(item) is Lines:
            _check_lines(item, report, registry or pinned(), operation)
        elif type(item) is Payload:
            report.checked += 1
            if item.raw is None:
                found = check_payload(item.data, item.kind, operation=operation,
                                      source=item.source, status=item.status, registry=registry)
            else:
                found = check_body(item.raw, item.kind, operation=item.operation or operation,
                                   source=item.source, status=item.status,
                                   content_type=item.content_type, headers=item.headers,
                                   request=item.request, path=item.path, expect=item.expect,
                                   registry=registry)
            findings.extend(found)
        elif type(item) is Parameters:
            findings.extend(check_parameters(item.operation, path=item.path, query=item.query,
                                             headers=item.headers, source=item.source,
                                             registry=registry))
        elif isinstance(item, Problem):
            problems.append(item.message)
        elif isinstance(item, Note):
            notes.append(item.message)
    return report


def _check_lines(item: Lines, report: Report, registry: ContractRegistry,
                 operation: Operation | None) -> None:
    """The hot path: one payload per line, judged as `check_payload` judges it.

    A line that parses, passes the schema and whose payload invariants find nothing (almost every
    line of a capture) costs its parse, one `is_valid` call and the invariants: no source string,
    no item, no finding. Any other line goes through `check_payload`, which words its findings.
    """
    kind, status, name, max_values = item.kind, item.status, item.name, item.values
    operation = operation or registry.manifest.primary
    is_valid = registry.validator(registry.payload_schema(kind, operation, status),
                                  strict=True).is_valid
    objects = payload_objects(operation, kind, status)
    invariants = payload_checks(objects) if objects else None
    loads, not_json = orjson.loads, orjson.JSONDecodeError
    findings, problems = report.findings, report.problems
    checked = 0
    try:
        for lineno, line in enumerate(item.lines, item.start):
            if len(line) > max_values:  # long enough to hold more values than parsed at once
                crowded = too_many_values(f"{name}:{lineno}", line, max_values)
                if crowded:
                    problems.append(crowded)
                    continue
            try:
                payload = loads(line)
            except not_json:
                if line and not line.isspace():
                    problems.append(line_problem(name, lineno, line).message)
                continue
            checked += 1
            if is_valid(payload) and (invariants is None or not invariants(payload)):
                continue
            findings.extend(check_payload(payload, kind, operation=operation, status=status,
                                          source=f"{name}:{lineno}", registry=registry))
    except InputProblem as exc:
        problems.append(str(exc))
    report.checked += checked


class _Stdin:
    """Standard input as bytes, looked up when `-` is read (tests put a StringIO in its place)."""

    def readline(self, size: int = -1, /) -> bytes:
        stream = sys.stdin
        if stream is None:
            raise UsageError("Standard input (-) is not available to this process.")
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            return bytes(buffer.readline(size))
        return str(stream.readline(size)).encode()  # a text stream: `size` counts characters


# --- worker processes ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Range:
    """Whole lines of an NDJSON file, numbered from `start`: the worker reads them itself, so
    only these few numbers cross between processes."""

    path: str
    name: str
    offset: int
    size: int
    start: int

    def __str__(self) -> str:
        return f"{self.name} from line {self.start}"


@dataclass(frozen=True)
class _Batch:
    """Lines this process read (standard input), numbered from `start`."""

    lines: list[bytes]
    name: str
    start: int

    def __str__(self) -> str:
        return f"{self.name} from line {self.start}"


@dataclass(frozen=True)
class _Files:
    """Whole sources (small files, HAR files, paths with a problem), read by the worker."""

    sources: tuple[Source, ...]

    def __str__(self) -> str:
        return self.sources[0].name


_Unit = _Range | _Batch | _Files


@dataclass(frozen=True)
class _Task:
    """What every unit is checked as."""

    kind: str
    status: int | None
    operation: str
    limits: Limits
    base_url: str | None = None

    def check(self, unit: _Unit) -> Report:
        """`unit` checked, in whichever process runs this."""
        contract = pinned()
        operation = contract.operation(self.operation)
        if isinstance(unit, _Files):
            return check(readers.read(unit.sources, kind=self.kind, status=self.status,
                                      stdin=None, manifest=contract.manifest,
                                      limits=self.limits, base_url=self.base_url),
                         operation=operation)
        if isinstance(unit, _Range):
            with open(unit.path, "rb") as stream:  # noqa: PTH123 (a str path: cheaper to send)
                stream.seek(unit.offset)
                lines = stream.read(unit.size).split(b"\n")
            if lines[-1] == b"":
                lines.pop()  # the range's final line break, not a line
            if unit.offset == 0:
                lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
        else:
            lines = unit.lines
        return check([Lines(iter(lines), unit.name, unit.start, self.kind, self.status,
                            self.limits.values)], operation=operation)


def _work(task: _Task, unit: _Unit) -> Report:
    return task.check(unit)


def _merge(report: Report, part: Report) -> None:
    report.checked += part.checked
    report.findings.extend(part.findings)
    report.problems.extend(part.problems)
    report.notes.extend(part.notes)


class _Workers:
    """Units checked in order and merged in order into `report`: in this process until
    `start_after` bytes of them were seen, then by `jobs` worker processes (when `jobs` > 1).

    At most a few units per worker are in flight, so memory stays flat whatever the input's size.
    A worker that dies (killed for memory, say) breaks the pool: that is one problem, and
    nothing after it is checked.
    """

    def __init__(self, task: _Task, report: Report, jobs: int, start_after: int) -> None:
        self.task, self.report, self.jobs = task, report, jobs
        self.start_after = start_after if jobs > 1 else -1
        self.pool: ProcessPoolExecutor | None = None
        self.pending: deque[tuple[_Unit | None, Future[Report] | Report]] = deque()
        self.broken = False

    def submit(self, unit: _Unit, size: int) -> None:
        if self.broken:
            return
        if self.pool is None and 0 <= self.start_after <= size:
            self.pool = self._start()
        elif self.pool is None and self.start_after > 0:
            self.start_after = max(self.start_after - size, 0)
        if self.pool is None:
            self.pending.append((unit, self.task.check(unit)))
        else:
            try:
                self.pending.append((unit, self.pool.submit(_work, self.task, unit)))
            except BrokenProcessPool:  # a worker died since: the first unit it failed says so
                while self.pending and not self.broken:
                    self._merge_first()
                if not self.broken:
                    self._died(unit)
                return
        while len(self.pending) > self.jobs * _IN_FLIGHT_PER_JOB and not self.broken:
            self._merge_first()

    def add(self, part: Report) -> None:
        """A part this process checked, merged in its place."""
        self.pending.append((None, part))

    def finish(self) -> None:
        """Every unit still in flight, merged (up to a dead worker's)."""
        while self.pending and not self.broken:
            self._merge_first()

    def close(self) -> None:
        """The workers stopped; what was not merged is dropped (an exception is on its way)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> ProcessPoolExecutor:
        # the validator compiled once here is inherited by forked workers
        contract = pinned()
        operation = contract.operation(self.task.operation)
        contract.validator(contract.payload_schema(self.task.kind, operation, self.task.status),
                           strict=True)
        method = "fork" if _fork_safe() else "spawn"
        return ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context(method))

    def _merge_first(self) -> None:
        unit, head = self.pending.popleft()
        if isinstance(head, Report):
            _merge(self.report, head)
            return
        try:
            _merge(self.report, head.result())
        except BrokenProcessPool:
            self._died(unit)
        except OSError as exc:
            self.report.problems.append(f"{unit} cannot be read ({exc.strerror or exc}).")

    def _died(self, unit: _Unit | None) -> None:
        self.broken = True
        self.report.problems.append(
            f"A worker process died (killed, perhaps for lack of memory) while checking {unit}: "
            "neither that nor anything after it was checked.")


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform says it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _fork_safe() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _size(source: Source) -> int | None:
    """The size of a regular file; None for standard input, a pipe or a device."""
    if source.path is None:
        return None if source.problem is None else 0
    try:
        info = source.path.stat()
    except OSError:
        return 0  # the reader reports it
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _jobs(requested: int | None, sizes: list[int | None]) -> int:
    """How many worker processes check sources of `sizes` (None: unknown, standard input):
    1 means this process does it all.

    --jobs N is an upper bound, clamped silently: the work is CPU-bound, so a worker beyond the
    cores or beyond the input's chunks only costs a process (and a huge N would fork that many).
    """
    if requested == 1:
        return 1
    unknown = None in sizes
    known = sum(size or 0 for size in sizes)
    if requested is None:
        # fork is what makes workers cheap; it is only safe before any thread was started
        if not _fork_safe() or (known < PARALLEL_MIN_BYTES and not unknown):
            return 1
        requested = 8
    chunks = -(-known // _CHUNK_BYTES) if not unknown else requested
    return max(1, min(requested, _cores(), chunks))


def _ranges(path: Path, name: str, limit: int) -> Iterator[_Range | Problem]:
    """`path` in ranges of whole lines, a chunk or so each. This process reads the file to find
    where lines end (no parsing); a line over `limit`, or a read error, ends the ranges with
    its problem."""
    block_size = min(_CHUNK_BYTES, limit)  # so a line within one block is within the limit
    offset, start = 0, 1
    try:
        with path.open("rb") as stream:
            while block := stream.read(block_size):
                if block[-1] != 10:  # a line goes on past the block: take the rest of it
                    tail = stream.readline(limit + 1)
                    complete = block.rfind(b"\n") + 1
                    length = len(block) - complete + len(tail) - tail.endswith(b"\n")
                    if length > limit:
                        if complete:
                            yield _Range(str(path), name, offset, complete, start)
                        lineno = start + block.count(b"\n")
                        yield Problem(too_long(f"{name}:{lineno}", limit))
                        return
                    block += tail
                yield _Range(str(path), name, offset, len(block), start)
                offset += len(block)
                start += block.count(b"\n") + (block[-1] != 10)
    except OSError as exc:
        yield unreadable(name, exc)


def check_sources(sources: Iterable[Source], *, kind: str, status: int | None,
                  operation: Operation | None = None, jobs: int | None = None,
                  limits: Limits | None = None, base_url: str | None = None) -> Report:
    """Every payload of `sources`, in order (bare ones as payloads of `operation`, by default the
    primary one); past PARALLEL_MIN_BYTES, by worker processes."""
    limits = limits or Limits()
    contract = pinned()
    operation = operation or contract.manifest.primary
    sources = list(sources)
    sizes = [_size(source) for source in sources]
    workers = _jobs(jobs, sizes)
    if workers == 1:
        return check(readers.read(sources, kind=kind, status=status, stdin=_Stdin(),
                                  manifest=contract.manifest, limits=limits, base_url=base_url),
                     operation=operation)
    report = Report()
    known = sum(size or 0 for size in sizes)
    start_after = 0 if jobs is not None else max(PARALLEL_MIN_BYTES - known, 0)
    pool = _Workers(_Task(kind, status, operation.id, limits, base_url), report, workers,
                    start_after)
    group: list[Source] = []
    grouped = 0
    try:
        for source, size in zip(sources, sizes, strict=True):
            if pool.broken:
                break
            ranged = (size is not None and size > _CHUNK_BYTES and source.path is not None
                      and source.path.suffix.lower() in (".ndjson", ".jsonl"))
            if size is not None and not ranged:
                group.append(source)
                grouped += size
                if grouped >= _CHUNK_BYTES:
                    pool.submit(_Files(tuple(group)), grouped)
                    group, grouped = [], 0
                continue
            if group:
                pool.submit(_Files(tuple(group)), grouped)
                group, grouped = [], 0
            if ranged and source.path is not None:
                for piece in _ranges(source.path, source.name, limits.line):
                    if isinstance(piece, Problem):
                        pool.add(Report(problems=[piece.message]))
                    elif pool.broken:
                        break
                    else:
                        pool.submit(piece, piece.size)
            else:
                _stream(source, pool, kind, status, operation, limits)
        if group:
            pool.submit(_Files(tuple(group)), grouped)
        pool.finish()
    finally:
        pool.close()
    return report


def _stream(source: Source, pool: _Workers, kind: str, status: int | None,
            operation: Operation, limits: Limits) -> None:
    """Standard input (or a pipe): this process reads it and hands out batches of lines."""
    contract = pinned()
    for item in readers.read([source], kind=kind, status=status, stdin=_Stdin(),
                             manifest=contract.manifest, limits=limits):
        if type(item) is not Lines:
            pool.add(check([item], operation=operation))
            continue
        batch: list[bytes] = []
        size, start = 0, item.start
        try:
            for line in item.lines:
                batch.append(line)
                size += len(line)
                if size >= _CHUNK_BYTES:
                    pool.submit(_Batch(batch, item.name, start), size)
                    start += len(batch)
                    batch, size = [], 0
                    if pool.broken:
                        return
        except InputProblem as exc:
            if batch:
                pool.submit(_Batch(batch, item.name, start), size)
            pool.add(Report(problems=[str(exc)]))
            return
        if batch:
            pool.submit(_Batch(batch, item.name, start), size)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    apply_contract(args)
    operation = pinned().operation(args.operation)
    kind, status = payload_kind(args.kind, args.status, operation)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs} must be 1 or more.")
    baseline = from_options(args.baseline, args.strict_baseline)  # a bad file: before any work
    limits = Limits(MAX_LINE_BYTES.value(args.max_line_bytes),
                    MAX_DOCUMENT_BYTES.value(args.max_document_bytes),
                    MAX_VALUES.value(args.max_values))
    MAX_DEPTH.value()  # a bad GHL_MAX_DEPTH is a usage error now, not at the first finding
    if args.base_url is not None and not is_http_url(args.base_url):
        raise UsageError(f"--base-url {args.base_url!r} is not an http(s) URL with a host.")
    sources = readers.resolve(args.paths)
    report = check_sources(sources, kind=kind, status=status, operation=operation,
                           jobs=args.jobs, limits=limits, base_url=args.base_url)
    if baseline is not None:
        baseline.apply(report)
    if not report.checked and not report.problems:
        shown = " ".join(readers.shown_name(path) for path in args.paths)
        report.problems.append(f"Nothing was checked: {shown} held no payload.")
    if args.format != "text" or report.checked:
        reporters.write(args.format, report, stdout)
    if args.format != "text" or not report.checked:
        # Why the exit code is 2, on the terminal: with nothing checked, that is all there is
        # to say (`check README.md` is one sentence, not a report of one problem).
        for problem in report.problems:
            print(f"error: {problem}", file=stderr)
    return report.exit_code(strict=args.strict, strict_baseline=args.strict_baseline)
