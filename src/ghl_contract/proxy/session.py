"""One proxy session: judges the forwarded exchanges on its own thread, in order, and keeps count.

The event loop that forwards never judges, writes or records: it hands each finished exchange to
the session (`submit`), or, when the verdict must precede the answer (`--enforce`, an upstream
fault), asks for it (`verdict`) and awaits it. The session's single thread owns everything
stateful: the judge and its number memory, the findings stream, the recording and the tally that
becomes the report. Memory stays bounded: at most MAX_WAITING exchanges wait to be judged (past
that an exchange is forwarded unjudged and counted), and the report keeps the first MAX_KEPT
findings (the stream has them all).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ghl_contract.findings import Finding, Report
from ghl_contract.proxy.exchange import Forwarded
from ghl_contract.proxy.judging import Judge, Verdict
from ghl_contract.proxy.recording import Recording
from ghl_contract.proxy.redaction import Secrets
from ghl_contract.proxy.stream import FindingsStream
from ghl_contract.reporters.common import plural

MAX_WAITING = 1000  # exchanges handed over and not judged yet
MAX_KEPT = 10_000  # findings the report keeps


@dataclass
class Tally:
    """What the session saw besides its findings: the report's notes."""

    forwarded: int = 0  # handed to the session's thread (`behind` are not)
    judged: Counter[str] = field(default_factory=Counter)  # by operation id
    unknown: int = 0  # requests of no known operation
    unknown_faults: int = 0  # ... that got no (complete) answer
    unjudged: Counter[str] = field(default_factory=Counter)  # why
    behind: int = 0  # not judged: MAX_WAITING were waiting
    shutdown: int = 0  # cut short by the proxy's shutdown
    replaced: int = 0  # answers --enforce replaced by a 502
    failures: list[str] = field(default_factory=list)  # the judge's own failures
    dropped: int = 0  # findings past MAX_KEPT

    def notes(self, upstream: str) -> list[str]:
        judged = sum(self.judged.values())
        lines = [f"Upstream: {upstream}.",
                 f"{plural(self.forwarded + self.behind, 'request')} forwarded: {judged} of a "
                 f"known operation judged, {self.unknown} of no known operation forwarded "
                 "unjudged."]
        lines.extend(f"{operation}: {plural(count, 'exchange')} judged."
                     for operation, count in sorted(self.judged.items()))
        lines.extend(f"{plural(count, 'answer')} forwarded unjudged: {why}."
                     for why, count in self.unjudged.items())
        if self.behind:
            lines.append(f"{plural(self.behind, 'exchange')} forwarded unjudged: more than "
                         f"{MAX_WAITING} were waiting for the judge.")
        if self.unknown_faults:
            lines.append(f"{plural(self.unknown_faults, 'request')} of no known operation got no "
                         "complete answer from the upstream.")
        if self.shutdown:
            lines.append(f"{plural(self.shutdown, 'exchange')} cut short by the proxy's shutdown.")
        if self.replaced:
            lines.append(f"--enforce replaced {plural(self.replaced, 'answer')} by a 502.")
        if self.dropped:
            lines.append(f"{plural(self.dropped, 'finding')} past the first {MAX_KEPT} are in the "
                         "findings stream only.")
        lines.extend(self.failures)
        return lines


class Session:
    """See the module docstring. `close()` once, then `report()`."""

    def __init__(self, upstream: str, *, stream: FindingsStream, secrets: Secrets,
                 recording: Recording | None, timeout: float, max_body: int) -> None:
        self.upstream = upstream
        self._stream = stream
        self._secrets = secrets
        self._recording = recording
        self._judge = Judge(timeout=timeout, max_body=max_body)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="ghl-contract-proxy-judge")
        self._waiting = threading.BoundedSemaphore(MAX_WAITING)
        self._lock = threading.Lock()  # for the counts the event loop keeps
        self._findings: list[Finding] = []
        self.tally = Tally()
        self._closed = False

    def submit(self, forwarded: Forwarded) -> None:
        """Judge `forwarded` later, in order; never waits (past MAX_WAITING it is only counted)."""
        forwarded.handed = True
        if not self._waiting.acquire(blocking=False):
            with self._lock:
                self.tally.behind += 1
            return
        self._worker.submit(self._take, forwarded)

    def verdict(self, forwarded: Forwarded) -> Future[Verdict]:
        """Judge `forwarded` now (after those handed over before it); its verdict when done.
        The caller awaits it, so these are as many as the answers held back."""
        forwarded.handed = True
        return self._worker.submit(self._process, forwarded)

    def _take(self, forwarded: Forwarded) -> None:
        try:
            self._process(forwarded)
        finally:
            self._waiting.release()

    def _process(self, forwarded: Forwarded) -> Verdict:
        tally = self.tally
        tally.forwarded += 1
        if forwarded.shutdown:
            tally.shutdown += 1
        if forwarded.operation is None:
            tally.unknown += 1
            tally.unknown_faults += forwarded.fault is not None
        try:
            verdict = self._judge.judge(forwarded) if not forwarded.shutdown else Verdict()
        except Exception as exc:  # a judge that fails on one answer must not stop the session
            tally.failures.append(self._secrets.text(
                f"{forwarded.source} could not be judged ({type(exc).__name__}: {exc})."))
            verdict = Verdict()
        if forwarded.operation is not None and not forwarded.shutdown:
            tally.judged[forwarded.operation.id] += 1
            if verdict.unjudged:
                tally.unjudged[verdict.unjudged] += 1
        findings = [self._secrets.finding(f) for f in verdict.findings]
        self._stream.write(findings)
        room = MAX_KEPT - len(self._findings)
        self._findings.extend(findings[:room])
        tally.dropped += max(0, len(findings) - room)
        if self._recording is not None:
            faults = [f for f in findings if f.rule in _FAULT_RULES]
            self._recording.record(forwarded, verdict.body, faults)
        return verdict

    def replaced(self) -> None:
        """Count an answer --enforce replaced by a 502."""
        with self._lock:
            self.tally.replaced += 1

    def close(self) -> None:
        """Judge what is still waiting, then close the recording."""
        if self._closed:
            return
        self._closed = True
        self._worker.shutdown(wait=True)
        if self._recording is not None:
            self._recording.close()

    @property
    def operations(self) -> list[str]:
        """The operations whose exchanges were judged, by id."""
        return sorted(self.tally.judged)

    def report(self) -> Report:
        """The session's report (after `close`)."""
        judged = sum(self.tally.judged.values())
        return Report(findings=list(self._findings), checked=judged,
                      notes=[self._secrets.text(note) for note in self.tally.notes(self.upstream)])


# The transport's findings for an answer that did not come whole: the recording keeps them.
_FAULT_RULES = frozenset({"timeout", "connection-error", "outcome-unknown"})
