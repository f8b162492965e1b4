"""The run context: what one contract run sent, found, skipped and created; and the test's probe.

`RunContext` lives for the session: the target, the transport client, the findings (each with the
id of the test that saw it), the skipped writes and why, the invoices created. `Probe` is what a
contract test holds: it sends through the client, has every answer examined, and fails the test
with the pointer and rule of each breaking finding. Every test module uses it; none checks a
response any other way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import pytest

from ghl_contract.findings import Finding, pointers_overlap
from ghl_contract.invariants import reads_of
from ghl_contract.registry import pinned
from ghl_contract.resources import example_path
from ghl_contract.settings import RunSettings
from ghl_contract.suite.ahead import Ahead
from ghl_contract.suite.created import Created, CreatedLog
from ghl_contract.suite.examine import SUCCESS, Examiner, Expect
from ghl_contract.suite.generation import GeneratedCase, invalid_cases, valid_cases
from ghl_contract.suite.messages import case_failure, exchange_failure, shape_failure
from ghl_contract.suite.shapes import shape_differences
from ghl_contract.suite.target import Target
from ghl_contract.transport import NO_BODY, Client, Exchange, SendingStopped, WriteSkipped


# Every semantic rule a run checks and the fields it reads: the payload and exchange invariants
# (ghl_contract.invariants) and the run's own, invoice numbers (examine.py). test_invariants
# runs one test per entry.
def _invariant_reads() -> dict[str, tuple[str, ...]]:
    primary = pinned().manifest.primary
    reads = reads_of(primary)
    if primary.creates is not None and primary.creates.number is not None:
        reads["invoice-number-reused"] = (primary.creates.number,)
    return reads


INVARIANT_READS: Mapping[str, tuple[str, ...]] = _invariant_reads()
_INVARIANTS = frozenset(INVARIANT_READS)

# A target that leaves this many requests in a row unanswered is down or hung: the run stops
# rather than wait a request timeout for every remaining test.
UNANSWERED_LIMIT = 5


@dataclass(frozen=True)
class Seen:
    """One exchange of the run and what the examiner found in it."""

    exchange: Exchange
    findings: tuple[Finding, ...]
    request: Any
    estimate_id: str

    def failing(self, *, strict: bool, rules: Collection[str] | None = None,
                reads: Collection[str] = ()) -> list[Finding]:
        """The findings that fail a test: breaking ones, or all under --strict-drift.

        With `rules`, only those rules, plus the breaking findings that leave them unverifiable:
        about the whole answer (a fault, a status) or a change of shape at a field they read, in
        it or at one of its parents (`reads`: pointers, `*` for any array index). Another
        invariant's finding is that invariant's business.
        """
        return [f for f in self.findings
                if (f.breaking or strict) and (
                    rules is None or f.rule in rules
                    or (f.breaking and f.rule not in _INVARIANTS
                        and (f.pointer == "" or any(pointers_overlap(f.pointer, r)
                                                    for r in reads))))]


@dataclass
class RunContext:
    """Everything one session of the contract suite accumulates."""

    settings: RunSettings
    target: Target
    client: Client
    profile: str  # the Hypothesis profile generated tests draw under
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0  # exchanges examined
    unanswered: int = 0  # exchanges in a row that got no answer at all
    answered: bool = False  # the target has answered at least once
    span: tuple[float, float] | None = None  # wall-clock time of the first request, last answer
    skipped_writes: dict[str, list[str]] = field(default_factory=dict)  # reason -> test ids
    unsent_cases: list[str] = field(default_factory=list)  # notes on generated cases not sent
    notes: list[str] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    created_log: CreatedLog = field(default_factory=CreatedLog)  # a hook of the client
    stats: dict[str, int] = field(default_factory=dict)
    examiner: Examiner = field(default_factory=Examiner)
    conversions: dict[str, Seen | str] = field(default_factory=dict)  # a Seen or a skip reason
    ahead: Ahead | None = None  # generated cases a forked helper is drawing meanwhile
    _keys: set[tuple[str | None, str, str]] = field(default_factory=set)

    def record(self, findings: Sequence[Finding]) -> None:
        """Keep findings for the report; one per test, rule and pointer (not per exchange)."""
        for finding in findings:
            key = (finding.source, finding.rule, finding.pointer)
            if key not in self._keys:
                self._keys.add(key)
                self.findings.append(finding)

    def skipped(self, test_id: str, reason: str) -> None:
        tests = self.skipped_writes.setdefault(reason, [])
        if test_id not in tests:
            tests.append(test_id)

    def finish(self) -> None:
        """Take the client's outcome (what it created, counts) before it closes."""
        self.created = list(self.created_log.objects)
        self.stats = self.client.stats
        unexercised = self.target.unexercised_drift()
        if unexercised:
            self.notes.append(unexercised)

    def documented_request(self) -> dict[str, Any]:
        """The documented request body, its altId the run's location."""
        body = _documented_request()
        body["altId"] = self.target.location_id
        return body


def _documented_request() -> dict[str, Any]:
    path = example_path("request")
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        pytest.fail(f"The documented request {path} cannot be read: {exc}.", pytrace=False)
    if not isinstance(body, dict):
        pytest.fail(f"The documented request {path} is not a JSON object.", pytrace=False)
    return copy.deepcopy(body)


def _note(expected: Expect, test_id: str) -> dict[str, Any]:
    """A request's annotation in the recording: its test, and for a request meant to be refused
    the statuses expected (`check` then judges it by its answer, not by the request schema)."""
    if any(200 <= status < 300 for status in expected.statuses):
        return {"test": test_id}
    return {"test": test_id, "expect": sorted(expected.statuses), "intent": "refused"}


class Probe:
    """A contract test's handle on the run: send, examine, and fail on breaking findings."""

    def __init__(self, run: RunContext, request: pytest.FixtureRequest) -> None:
        self.run = run
        self._request = request
        self.test_id = request.node.nodeid

    @property
    def target(self) -> Target:
        return self.run.target

    @property
    def settings(self) -> RunSettings:
        return self.run.settings

    @property
    def strict(self) -> bool:
        return self.run.settings.strict_drift

    def documented_request(self) -> dict[str, Any]:
        return self.run.documented_request()

    def generated(self, kind: str, count: int) -> list[GeneratedCase]:
        """`count` generated `valid` or `invalid` requests to the run's estimates and location.

        Every one is a write: when the budget allows none, the test is skipped before drawing.
        """
        refusal = self.run.client.write_refusal()
        if refusal is not None:
            self._skip(refusal)
        left = self.run.client.time_left()
        drawn = self.run.ahead.take(kind, count, within=left) if self.run.ahead else None
        if drawn is not None:
            return drawn
        if self.run.client.time_left() <= 0:
            self._deadline(f"The run's deadline of {self.settings.run_timeout:g} s "
                           "(--run-timeout) passed before the generated cases were drawn.")
        generate = valid_cases if kind == "valid" else invalid_cases
        return generate(count, estimate_ids=self.target.estimate_ids,
                        location_id=self.target.location_id,
                        api_version=self.settings.api_version, profile=self.run.profile)

    # Sending.

    def send(self, body: Any, *, estimate_id: str | None = None,
             headers: Mapping[str, str | None] | None = None,
             expect: Expect = SUCCESS) -> Seen:
        """Send one request and examine the answer; a write the budget forbids skips the test."""
        try:
            return self._send(body, estimate_id=estimate_id, headers=headers, expect=expect)
        except WriteSkipped as exc:
            self._skip(exc.reason)

    def _send(self, body: Any, *, estimate_id: str | None,
              headers: Mapping[str, str | None] | None, expect: Expect) -> Seen:
        estimate_id = estimate_id or self.target.estimate_id
        operation = pinned().manifest.primary
        try:
            exchange = self.run.client.request(
                operation, path={operation.path_names[0]: estimate_id},
                body=NO_BODY if body is None else body, headers=headers,
                note=_note(expect, self.test_id))
        except SendingStopped as exc:
            self._deadline(str(exc))
        findings = self.run.examiner.examine(
            exchange, expect, operation=operation, request=body,
            path={operation.path_names[0]: estimate_id}, source=self.test_id)
        if findings:
            curl = exchange.curl()
            findings = [replace(f, curl=curl) for f in findings]
        self.run.checked += 1
        self.run.record(findings)
        answered = exchange.started_at + exchange.elapsed
        first = self.run.span[0] if self.run.span else exchange.started_at
        self.run.span = (first, answered)
        if exchange.status is None and not self.run.answered and any(
                f.rule == "connection-error" for f in exchange.faults):
            # Nothing has ever answered: a wrong --base-url (or a server not started) is a set-up
            # error, not a broken contract.
            message = next(f.message for f in exchange.faults if f.rule == "connection-error")
            pytest.exit(f"Nothing answers at {self.target.base_url}: {message}",
                        returncode=pytest.ExitCode.USAGE_ERROR)
        self.run.answered = self.run.answered or exchange.status is not None
        self.run.unanswered = self.run.unanswered + 1 if exchange.status is None else 0
        if self.run.unanswered == UNANSWERED_LIMIT:
            self._stop(f"The run stopped: {self.target.base_url} left {UNANSWERED_LIMIT} "
                       "requests in a row without an answer (timeout or connection error).")
        return Seen(exchange, tuple(findings), body, estimate_id)

    def converted(self, estimate_id: str) -> Seen:
        """The documented request to `estimate_id`, sent once per run and shared by the tests."""
        known = self.run.conversions.get(estimate_id)
        if isinstance(known, str):
            self._skip(known)
        if known is None:
            try:
                known = self._send(self.documented_request(), estimate_id=estimate_id,
                                   headers=None, expect=SUCCESS)
            except WriteSkipped as exc:
                self.run.conversions[estimate_id] = exc.reason
                self._skip(exc.reason)
            self.run.conversions[estimate_id] = known
        return known

    def send_cases(self, cases: Sequence[GeneratedCase], expect: Expect) -> list[Seen]:
        """Send generated cases until one fails; fails the test with it, skips if none was sent."""
        if not cases:
            pytest.fail("The generator produced no case for this test.", pytrace=False)
        seen: list[Seen] = []
        for position, case in enumerate(cases, start=1):
            try:
                result = self._send(case.body, estimate_id=case.estimate_id, headers=None,
                                    expect=expect)
            except WriteSkipped as exc:
                if not seen:
                    self._skip(exc.reason)
                self.run.unsent_cases.append(
                    f"{self.test_id}: {len(cases) - len(seen)} of {len(cases)} generated cases "
                    f"were not sent. {exc.reason}")
                break
            seen.append(result)
            failing = result.failing(strict=self.strict)
            if failing:
                pytest.fail(case_failure(case, position, len(cases), result.exchange, failing,
                                         strict=self.strict), pytrace=False)
        return seen

    # Verdicts.

    def require(self, *seen: Seen, rules: Collection[str] | None = None,
                reads: Collection[str] = (), what: str | None = None) -> None:
        """Fail the test with every breaking finding (of `rules`, when given) of these exchanges."""
        messages = [
            exchange_failure(item.exchange, failing, strict=self.strict, what=what)
            for item in seen
            if (failing := item.failing(strict=self.strict, rules=rules, reads=reads))
        ]
        if messages:
            pytest.fail("\n".join(messages), pytrace=False)

    def compare_versions(self) -> None:
        """The documented request with the run's Version and --compare-version, shape by shape."""
        version, base_version = self.settings.compare_version, self.settings.api_version
        if version is None:
            pytest.skip("No --compare-version was given.")
        base = self.converted(self.target.estimate_id)
        other = self.send(self.documented_request(), headers={"Version": version})
        unreadable = [seen for seen in (base, other) if seen.exchange.faults]
        self.require(*unreadable, what="The two answers cannot be compared")
        # Shapes are compared between two conversions: an error answer on either side fails
        # the test as it is, rather than as a body of another shape.
        self.require(base, what=f"With Version {base_version}")
        self.require(other, what=f"With Version {version}")
        differences = [
            replace(f, status=other.exchange.status)
            for f in shape_differences(base.exchange.json(), other.exchange.json(),
                                       base_label=base_version, other_label=version,
                                       source=self.test_id)
        ]
        self.run.record(differences)
        failing = [f for f in differences if f.breaking or self.strict]
        if failing:
            pytest.fail(shape_failure(failing, base_version, version, strict=self.strict),
                        pytrace=False)

    def _skip(self, reason: str) -> NoReturn:
        self.run.skipped(self.test_id, reason)
        pytest.skip(reason)

    def _deadline(self, reason: str) -> NoReturn:
        # The run must end in bounded time: stop the session after this test, which fails (a run
        # that could not finish has not shown that the contract holds).
        self._stop(reason)
        # From None: called while the client's SendingStopped is handled, whose text is the same.
        raise pytest.fail.Exception(reason, pytrace=False) from None

    def _stop(self, reason: str) -> None:
        # shouldfail, not shouldstop: pytest then ends the session as failed (exit 1) rather than
        # as interrupted.
        if reason not in self.run.notes:
            self.run.notes.append(reason)
        self._request.session.shouldfail = reason
