"""The run context: what one contract run sent, found, skipped and created; and the test's probe.

`RunContext` lives for the session: the target, the transport client, the estimates it converts,
the findings (each with the id of the test that saw it), the skipped writes and why, and the ledger
of every object it created (so that cleanup leaves nothing behind). `Probe` is what a contract test
holds: it sends a request of any operation through the client, has every answer examined, records
what the answer created, and fails the test with the pointer and rule of each breaking finding.
Every test module uses it; none checks a response any other way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import pytest

from ghl_contract.baseline import Baseline
from ghl_contract.findings import CreatedObject, Finding, pointers_overlap
from ghl_contract.invariants import reads_of
from ghl_contract.operations import Operation
from ghl_contract.registry import pinned
from ghl_contract.resources import example_path
from ghl_contract.rules import finding as new_finding
from ghl_contract.settings import RunSettings
from ghl_contract.suite.ahead import Ahead, HelperFailed
from ghl_contract.suite.estimates import (
    BASE,
    CREATED,
    GIVEN,
    Estimates,
    filled,
    run_label,
    templates,
)
from ghl_contract.suite.examine import SUCCESS, Examiner, Expect
from ghl_contract.suite.generation import GeneratedCase, invalid_cases, valid_cases
from ghl_contract.suite.ledger import Ledger
from ghl_contract.suite.lifespan import in_flight
from ghl_contract.suite.messages import case_failure, exchange_failure, shape_failure
from ghl_contract.suite.shapes import shape_differences
from ghl_contract.suite.target import Target, query_for
from ghl_contract.suite.verify import created_findings
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

def success_of(operation: Operation) -> Expect:
    """What a request that succeeds gets: its operation's documented success status."""
    return Expect(frozenset({operation.success.status}), str(operation.success.status))


# A target that leaves this many requests in a row unanswered is down or hung: the run stops
# rather than wait a request timeout for every remaining test.
UNANSWERED_LIMIT = 5


@dataclass(frozen=True)
class Seen:
    """One exchange of the run and what the examiner found in it."""

    exchange: Exchange
    findings: tuple[Finding, ...]  # those that can fail a test
    request: Any
    operation: Operation
    path: Mapping[str, str]
    acknowledged: tuple[Finding, ...] = ()  # found, and acknowledged by the run's baseline

    @property
    def reported(self) -> tuple[Finding, ...]:
        """Every finding of the exchange, acknowledged or not: each change that has its own."""
        return (*self.findings, *self.acknowledged)

    def body(self) -> Any:
        """The answer's JSON (None when it is not JSON)."""
        try:
            return self.exchange.json()
        except ValueError:
            return None

    @property
    def succeeded(self) -> bool:
        status = self.exchange.status
        return status is not None and 200 <= status < 300 and not self.exchange.faults

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
    seed: int | None  # the seed they draw with (None: the derandomized ci profile)
    ledger: Ledger  # every object the run created, and what cleanup did with it
    estimates: Estimates  # the estimates the run converts, by key
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0  # exchanges examined
    unanswered: int = 0  # exchanges in a row that got no answer at all
    answered: bool = False  # the target has answered at least once
    span: tuple[float, float] | None = None  # wall-clock time of the first request, last answer
    skipped_writes: dict[str, list[str]] = field(default_factory=dict)  # reason -> test ids
    unsent_cases: list[str] = field(default_factory=list)  # notes on generated cases not sent
    notes: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    examiner: Examiner = field(default_factory=Examiner)
    conversions: dict[str, Seen | str] = field(default_factory=dict)  # a Seen or a skip reason
    shared: dict[str, Seen | str] = field(default_factory=dict)  # steps several tests read
    created_bodies: dict[str, Any] = field(default_factory=dict)  # estimate id -> what made it
    ahead: Ahead | None = None  # generated cases a forked helper is drawing meanwhile
    baseline: Baseline | None = None  # what it acknowledges is reported, never fails a test
    estimates_made: int = 0  # estimate bodies made so far: the number in the next one's name
    _keys: set[tuple[str | None, str, str]] = field(default_factory=set)

    def record(self, findings: Sequence[Finding]) -> None:
        """Keep findings for the report; one per test, rule and pointer (not per exchange)."""
        for finding in findings:
            key = (finding.source, finding.rule, finding.pointer)
            if key not in self._keys:
                self._keys.add(key)
                self.findings.append(finding)

    def unacknowledged(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings the run's baseline does not acknowledge: those that can fail a test."""
        return self.sorted_out(findings)[0]

    def sorted_out(self, findings: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
        """`findings` as (those that can fail a test, those the run's baseline acknowledges)."""
        if self.baseline is None:
            return list(findings), []
        acknowledged = [f for f in findings if self.baseline.acknowledging(f) is not None]
        return [f for f in findings if f not in acknowledged], acknowledged

    def skipped(self, test_id: str, reason: str) -> None:
        tests = self.skipped_writes.setdefault(reason, [])
        if test_id not in tests:
            tests.append(test_id)

    @property
    def created(self) -> list[CreatedObject]:
        return list(self.ledger.entries)

    def finish(self) -> None:
        """Take the client's counts before it closes."""
        self.stats = self.client.stats
        unexercised = self.target.unexercised_drift()
        if unexercised:
            self.notes.append(unexercised)

    def documented_request(self) -> dict[str, Any]:
        """The documented request body, its altId the run's location. A given estimate
        (--estimate-id) is converted without markAsInvoiced: it stays convertible."""
        body = _documented_request()
        body["altId"] = self.target.location_id
        if self.estimates.mode == GIVEN:
            body["markAsInvoiced"] = False
        return body

    def estimate_body(self, key: str) -> dict[str, Any]:
        """The create-estimate body of template `key`, for the run's location; its name carries
        the run's label, the template and a number: no other estimate has it."""
        self.estimates_made += 1
        label = f"{self.ledger.label or run_label()} {key} {self.estimates_made}"
        return filled(templates()[key], self.target.location_id, label)


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
        # An estimate the run creates is created by the test that first needs it.
        run.estimates.create = self.create_estimate

    @property
    def target(self) -> Target:
        return self.run.target

    @property
    def settings(self) -> RunSettings:
        return self.run.settings

    @property
    def strict(self) -> bool:
        return self.run.settings.strict_drift

    @property
    def primary(self) -> Operation:
        return pinned().manifest.primary

    def operation(self, operation_id: str | None) -> Operation:
        return self.primary if operation_id is None else pinned().operation(operation_id)

    def documented_request(self) -> dict[str, Any]:
        return self.run.documented_request()

    def query(self, operation_id: str, **given: str) -> dict[str, str]:
        """The query a request of `operation_id` about the run's location sends."""
        return query_for(self.operation(operation_id), self.target.location_id, **given)

    def estimate(self, key: str | None = None) -> str:
        """The id of the run's estimate `key` (default: the base one refusals go to), created
        first when the run creates its estimates."""
        estimates = self.run.estimates
        if key is None:
            key = BASE if estimates.mode == CREATED else estimates.first
        return self._provisioned(lambda: estimates.id(key))

    def _provisioned(self, get: Any) -> str:
        try:
            result: str = get()
        except WriteSkipped as exc:
            self._skip(exc.reason)
        return result

    def create(self, key: str) -> Seen:
        """Create an estimate from template `key` (a write), held to what was sent: the answer
        echoes it (created-mismatch)."""
        body = self.run.estimate_body(key)
        creating = pinned().manifest.creating("estimate")
        try:
            seen = self._send(body, operation=creating, path={}, query=None, headers=None,
                              expect=success_of(creating), note=None)
        except WriteSkipped as exc:
            self._skip(exc.reason)
        made = seen.body()
        if seen.succeeded and isinstance(made, dict) and isinstance(made.get("_id"), str):
            self.run.created_bodies[made["_id"]] = body
            seen = self.also(seen, created_findings(body, made))
        return seen

    def create_estimate(self, key: str) -> str:
        """Create an estimate from template `key` (a write); its id. A failure fails the test
        that needed the estimate, with the server's answer."""
        seen = self.create(key)
        made = seen.body()
        estimate_id = made.get("_id") if isinstance(made, dict) else None
        if not seen.succeeded or not isinstance(estimate_id, str):
            self.require(seen, what=f"Creating the estimate {key!r} the test needed")
            pytest.fail(f"Creating the estimate {key!r} the test needed gave no estimate id.",
                        pytrace=False)
        return estimate_id

    def fail_with(self, seen: Seen, rule: str, pointer: str, message: str) -> NoReturn:
        """Fail the test with one finding the run made across exchanges (a created object not
        listed...), recorded for the report like any other."""
        self.require(self.also(seen, [new_finding(rule, pointer, message)]), rules={rule})
        pytest.fail(message, pytrace=False)  # a non-breaking rule outside --strict-drift

    def also(self, seen: Seen, findings: Sequence[Finding]) -> Seen:
        """`seen` with findings the run made across exchanges (verify.py), recorded for the
        report; `require` fails on them like on the answer's own."""
        stamped = [replace(f, source=self.test_id, operation=seen.operation.id,
                           status=seen.exchange.status) for f in findings]
        self.run.record(stamped)
        failing, acknowledged = self.run.sorted_out(stamped)
        return replace(seen, findings=(*seen.findings, *failing),
                       acknowledged=(*seen.acknowledged, *acknowledged))

    def generated(self, kind: str, count: int) -> list[GeneratedCase]:
        """`count` generated `valid` or `invalid` requests to the run's estimates and location.

        Every one is a write: when the budget allows none, the test is skipped before drawing.
        """
        return list(self._generated(kind, count))

    def send_generated(self, kind: str, count: int, expect: Expect) -> list[Seen]:
        """Send `count` generated `kind` requests (see `generated`) until one fails, each as
        soon as it is drawn: the helper's invalid cases go out while it draws the next."""
        return self.send_cases(self._generated(kind, count), expect, planned=count)

    def _generated(self, kind: str, count: int
                   ) -> Sequence[GeneratedCase] | Iterator[GeneratedCase]:
        refusal = self.run.client.write_refusal()
        if refusal is not None:
            self._skip(refusal)
        left = self.run.client.time_left()
        stream = self.run.ahead.stream(kind, count, within=left) if self.run.ahead else None
        if stream is not None:
            return self._streamed(stream, kind, count)
        return self._drawn_here(kind, count)

    def _streamed(self, stream: Iterator[GeneratedCase], kind: str, count: int
                  ) -> Iterator[GeneratedCase]:
        """The helper's cases as they come; if it fails, the rest drawn here (the same seed, so
        mostly the same cases: those the helper gave are left out)."""
        given: set[tuple[str, bytes]] = set()
        try:
            for case in stream:
                given.add(case.key)
                yield case
            return
        except HelperFailed:
            pass
        rest = [case for case in self._drawn_here(kind, count) if case.key not in given]
        yield from rest[:count - len(given)]

    def _drawn_here(self, kind: str, count: int) -> list[GeneratedCase]:
        if self.run.client.time_left() <= 0:
            self._deadline(f"The run's deadline of {self.settings.run_timeout:g} s "
                           "(--run-timeout) passed before the generated cases were drawn.")
        generate = valid_cases if kind == "valid" else invalid_cases
        return generate(count, estimate_ids=self.run.estimates.keys,
                        location_id=self.target.location_id,
                        api_version=self.settings.api_version, profile=self.run.profile,
                        seed=self.run.seed)

    # Sending.

    def send(self, body: Any = None, *, operation: str | None = None,
             path: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None,
             estimate_id: str | None = None, headers: Mapping[str, str | None] | None = None,
             expect: Expect = SUCCESS, note: Mapping[str, Any] | None = None) -> Seen:
        """Send one request of `operation` (default: the primary one, to `estimate_id` or the
        run's base estimate) and examine the answer; a write the budget forbids skips the test.
        `note` goes into the recording (what the request was meant to do)."""
        chosen = self.operation(operation)
        if path is None and chosen.path_names:
            path = {chosen.path_names[0]: estimate_id or self.estimate()}
        try:
            return self._send(body, operation=chosen, path=path or {}, query=query,
                              headers=headers, expect=expect, note=note)
        except WriteSkipped as exc:
            self._skip(exc.reason)

    def _send(self, body: Any, *, operation: Operation, path: Mapping[str, str],
              query: Mapping[str, str] | None, headers: Mapping[str, str | None] | None,
              expect: Expect, note: Mapping[str, Any] | None) -> Seen:
        try:
            with in_flight():  # SIGTERM lets it finish: what it creates goes into the ledger
                exchange = self.run.client.request(
                    operation, path=path, query=query, body=NO_BODY if body is None else body,
                    headers=headers, note={**_note(expect, self.test_id), **(note or {})})
        except SendingStopped as exc:
            self._deadline(str(exc))
        sent = body if isinstance(body, Mapping) else query
        findings = self.run.examiner.examine(exchange, expect, operation=operation,
                                             request=sent, path=path, source=self.test_id)
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
        failing, acknowledged = self.run.sorted_out(findings)
        return Seen(exchange, tuple(failing), body, operation, dict(path), tuple(acknowledged))

    def converted(self, key: str) -> Seen:
        """The documented request to the run's estimate `key`, sent once per run and shared by
        the tests (in a run that creates its estimates, to one created for it)."""
        known = self.run.conversions.get(key)
        if isinstance(known, str):
            self._skip(known)
        if known is None:
            request = self.documented_request()
            try:
                estimate_id = self.run.estimates.for_conversion(
                    key, request.get("markAsInvoiced") is True)
                known = self._send(request, operation=self.primary,
                                   path={self.primary.path_names[0]: estimate_id}, query=None,
                                   headers=None, expect=SUCCESS, note=None)
            except WriteSkipped as exc:
                self.run.conversions[key] = exc.reason
                self._skip(exc.reason)
            self.run.conversions[key] = known
        return known

    def shared(self, name: str, step: Any) -> Seen:
        """A step several tests read (`step()` sends it), sent once per run; a step the budget
        skipped skips every test that reads it."""
        known = self.run.shared.get(name)
        if isinstance(known, str):
            self._skip(known)
        if known is None:
            try:
                known = step()
            except WriteSkipped as exc:
                self.run.shared[name] = exc.reason
                self._skip(exc.reason)
            except pytest.skip.Exception as exc:
                self.run.shared[name] = str(exc)
                raise
            assert isinstance(known, Seen)
            self.run.shared[name] = known
        return known

    def send_cases(self, cases: Iterable[GeneratedCase], expect: Expect, *,
                   planned: int | None = None) -> list[Seen]:
        """Send generated cases until one fails; fails the test with it, skips if none was sent.
        `planned`: how many there are, when `cases` cannot tell (they are still being drawn)."""
        total = len(cases) if isinstance(cases, Sized) else planned
        seen: list[Seen] = []
        intent = "valid" if SUCCESS.statuses <= expect.statuses else "invalid"
        position = 0
        for position, case in enumerate(cases, start=1):
            try:
                marks = isinstance(case.body, dict) and case.body.get("markAsInvoiced") is True
                key = case.estimate_id if intent == "valid" else BASE if \
                    self.run.estimates.mode == CREATED else case.estimate_id
                estimate_id = self.run.estimates.for_conversion(key, marks and intent == "valid")
                result = self._send(case.body, operation=self.primary,
                                    path={self.primary.path_names[0]: estimate_id}, query=None,
                                    headers=None, expect=expect, note={"intent": intent})
            except WriteSkipped as exc:
                if not seen:
                    self._skip(exc.reason)
                self.run.unsent_cases.append(
                    f"{self.test_id}: {(total or position) - len(seen)} of {total or 'the'} "
                    f"generated cases were not sent. {exc.reason}")
                break
            seen.append(result)
            failing = result.failing(strict=self.strict)
            if failing:
                pytest.fail(case_failure(case, position, total or position, result.exchange,
                                         failing, strict=self.strict), pytrace=False)
        if not position:
            pytest.fail("The generator produced no case for this test.", pytrace=False)
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
        base = self.converted(self.run.estimates.first)
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
        failing = [f for f in self.run.unacknowledged(differences) if f.breaking or self.strict]
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
