"""The one findings model: every check in the product reports through `Finding` and `Report`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import orjson

from ghl_contract import __version__

if TYPE_CHECKING:
    from ghl_contract.baseline import Judgement

TOOL_NAME = "ghl-contract"


class Severity(StrEnum):
    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between what was seen and the contract, at one place."""

    pointer: str  # RFC 6901 pointer into the payload ("" is the whole payload)
    rule: str  # a stable code from ghl_contract.rules
    severity: Severity
    message: str  # one plain sentence
    expected: Any = None
    actual: Any = None
    source: str | None = None  # file:line, HAR entry, or the test that saw it
    status: int | None = None  # HTTP status, when the payload came from a response
    trace_id: str | None = None  # HighLevel's traceId, when the response carried one
    operation: str | None = None  # the manifest's operation id, when the payload had one
    curl: str | None = None  # a command that sends the request again (token as $GHL_TOKEN)
    server_message: str | None = None  # the server's own `message`, redacted and shortened

    @property
    def breaking(self) -> bool:
        return self.severity is Severity.BREAKING

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return {key: value for key, value in data.items() if value is not None}


class Cleanup(StrEnum):
    """What became of an object a run created."""

    DELETED = "deleted"  # deleted by the run (or discarded with the embedded mock)
    VOIDED = "voided"
    GONE = "gone"  # the target no longer had it (deleted by someone else, or an earlier cleanup)
    KEPT = "kept"  # left in place (--cleanup none): the report lists it
    FAILED = "failed"  # the run tried to clean it up and could not: `ghl-contract cleanup`
    PENDING = "pending"  # cleanup was not attempted yet: `ghl-contract cleanup`


@dataclass(frozen=True, slots=True)
class CreatedObject:
    """An object a run created on its target (an invoice, an estimate...)."""

    operation: str | None  # the operation that created it
    kind: str  # "invoice", "estimate"
    id: str
    number: str | int | None = None
    location: str | None = None
    cleanup: Cleanup = Cleanup.PENDING
    detail: str | None = None  # how cleanup ended, when a word is not enough

    @property
    def left(self) -> bool:
        """Whether it is still on the target, to be cleaned up."""
        return self.cleanup in (Cleanup.PENDING, Cleanup.FAILED)

    def to_dict(self) -> dict[str, Any]:
        data = {"operation": self.operation, "kind": self.kind, "id": self.id,
                "number": self.number, "location": self.location, "cleanup": self.cleanup.value}
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass(frozen=True, slots=True)
class SkippedTest:
    test: str  # the test's id
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"test": self.test, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class RunTarget:
    """What a run talked to."""

    url: str | None  # None: the embedded mock was never started
    embedded: bool  # the embedded mock (True) or a live base URL
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "embedded": self.embedded, "description": self.description}


@dataclass(slots=True)
class Counts:
    """How tests ended, as pytest counts them (an error in set-up or tear-down is `errored`)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errored: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.errored

    def add(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.errored += other.errored

    def sentence(self) -> str:
        """``56 passed, 0 failed, 1 skipped`` (errors only when there are some)."""
        parts = [f"{self.passed} passed", f"{self.failed} failed", f"{self.skipped} skipped"]
        if self.errored:
            parts.append(f"{self.errored} errored")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped,
                "errored": self.errored}


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC to the millisecond: ``2026-12-03T08:15:02.123Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Report:
    """What one check or run produced: findings, how much was checked, and input problems.

    `check`, `diff` and `lint-vendor` fill the first four fields. A contract run also says what
    it ran against and when, how its tests ended, what it created and skipped (`target` set marks
    a run's report). A baseline, when one was applied, moves the findings it acknowledges out of
    `findings` into `baseline`, which also lists its entries that no longer occur.
    """

    findings: list[Finding] = field(default_factory=list)  # what counts: new, when a baseline ran
    checked: int = 0  # payloads (or exchanges) examined
    problems: list[str] = field(default_factory=list)  # input errors, one sentence each
    notes: list[str] = field(default_factory=list)  # plain facts for the reader, in prose
    tool_version: str = __version__
    # A contract run's own facts.
    target: RunTarget | None = None
    api_version: str | None = None
    seed: int | None = None  # the run's Hypothesis seed
    started: str | None = None  # ISO 8601 UTC (see `timestamp`)
    finished: str | None = None
    tests: dict[str, Counts] = field(default_factory=dict)  # by test module
    created: list[CreatedObject] = field(default_factory=list)
    skipped: list[SkippedTest] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)  # sent, writes, retries...
    baseline: Judgement | None = None

    @property
    def breaking(self) -> list[Finding]:
        return [f for f in self.findings if f.breaking]

    @property
    def non_breaking(self) -> list[Finding]:
        return [f for f in self.findings if not f.breaking]

    @property
    def is_run(self) -> bool:
        return self.target is not None

    def total(self) -> Counts:
        """The tests of every module together."""
        total = Counts()
        for counts in self.tests.values():
            total.add(counts)
        return total

    def exit_code(self, *, strict: bool = False, strict_baseline: bool = False) -> int:
        """0 the contract holds, 1 it is broken, 2 the input could not all be read.

        Findings a baseline acknowledges never count; its entries that no longer occur fail only
        with `strict_baseline`, so that the baseline shrinks as the drift is fixed.
        """
        if self.problems:
            return 2
        if self.breaking or (strict and self.findings):
            return 1
        if strict_baseline and self.baseline is not None and self.baseline.resolved:
            return 1
        return 0

    def summary(self) -> dict[str, int]:
        counts = {
            "checked": self.checked,
            "findings": len(self.findings),
            "breaking": len(self.breaking),
            "non_breaking": len(self.non_breaking),
            "problems": len(self.problems),
        }
        if self.baseline is not None:
            counts["acknowledged"] = len(self.baseline.acknowledged)
            counts["resolved"] = len(self.baseline.resolved)
        return counts

    def groups(self) -> list[Group]:
        return group(self.findings)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tool": {"name": TOOL_NAME, "version": self.tool_version},
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "groups": [g.to_dict() for g in self.groups()],
            "problems": list(self.problems),
            "notes": list(self.notes),
        }
        if self.target is not None:
            data.update({
                "target": self.target.to_dict(),
                "api_version": self.api_version,
                "seed": self.seed,
                "started": self.started,
                "finished": self.finished,
                "tests": {"total": self.total().to_dict(),
                          "modules": {name: counts.to_dict()
                                      for name, counts in self.tests.items()}},
                "created": [c.to_dict() for c in self.created],
                "skipped": [s.to_dict() for s in self.skipped],
                "requests": dict(self.requests),
            })
        if self.baseline is not None:
            data["baseline"] = self.baseline.to_dict()
        return data


# Grouping: one changed field seen by 8 tests, or one 500 answered to 46 requests, is one group.

EXAMPLES = 3  # sources a group names, in order of appearance

# Values inside a message (quoted strings, numbers, array indices in pointers) differ between
# occurrences of the same finding; its shape is the message without them.
_VALUES = re.compile(r'"(?:[^"\\]|\\.)*"'  # a JSON string
                     r"|(?<!\w)'(?:[^'\\]|\\.)*'"  # a quoted text (not an apostrophe)
                     r"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")  # a number, an index


def message_shape(message: str) -> str:
    return _VALUES.sub("…", message)


def generalise(at: str) -> str:
    """`pointer` with every array index as `*`: ``/estimate/items/3/productId`` ->
    ``/estimate/items/*/productId``."""
    return "/".join("*" if part.isascii() and part.isdigit() else part
                    for part in at.split("/"))


@dataclass(slots=True)
class Group:
    """Findings that say the same thing: same operation, rule, pointer (array indices
    generalised), severity, status and message shape."""

    operation: str | None
    rule: str
    pointer: str  # generalised
    severity: Severity
    status: int | None
    findings: list[Finding] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)  # positions in the report's findings

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def breaking(self) -> bool:
        return self.severity is Severity.BREAKING

    @property
    def occurrences(self) -> int:
        return len(self.findings)

    def examples(self, count: int = EXAMPLES) -> list[str]:
        """The first `count` distinct sources that saw this finding."""
        seen: list[str] = []
        for finding in self.findings:
            if finding.source and finding.source not in seen:
                seen.append(finding.source)
                if len(seen) == count:
                    break
        return seen

    @property
    def reproducer(self) -> Finding | None:
        """The first finding that carries a curl command or the server's message."""
        return next((f for f in self.findings if f.curl or f.server_message), None)

    def to_dict(self) -> dict[str, Any]:
        first = self.first
        data: dict[str, Any] = {
            "operation": self.operation, "rule": self.rule, "pointer": self.pointer,
            "severity": self.severity.value, "status": self.status,
            "message": first.message, "occurrences": self.occurrences,
            "findings": list(self.indices), "examples": self.examples(),
        }
        return {key: value for key, value in data.items() if value is not None}


GroupKey = tuple[str | None, str, str, Severity, int | None, str]


def group_key(finding: Finding) -> GroupKey:
    return (finding.operation, finding.rule, generalise(finding.pointer), finding.severity,
            finding.status, message_shape(finding.message))


def group(findings: Iterable[Finding]) -> list[Group]:
    """Identical findings as groups, in order of first appearance."""
    groups: dict[GroupKey, Group] = {}
    for index, finding in enumerate(findings):
        key = group_key(finding)
        found = groups.get(key)
        if found is None:
            found = groups[key] = Group(finding.operation, finding.rule, key[2],
                                        finding.severity, finding.status)
        found.findings.append(finding)
        found.indices.append(index)
    return list(groups.values())


def pointer(path: Any) -> str:
    """RFC 6901 pointer from a sequence of keys and indices."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def pointer_within(at: str, pattern: str) -> bool:
    """Whether pointer `at` is `pattern` or inside it; `*` in the pattern is any array index."""
    return at.count("/") >= pattern.count("/") and pointers_overlap(at, pattern)


def pointers_overlap(at: str, pattern: str) -> bool:
    """Whether pointer `at` is `pattern`, inside it, or one of its parents: a change at one
    reaches the other. `*` in the pattern is any array index."""
    parts, wanted = at.split("/"), pattern.split("/")
    return all(w == p or (w == "*" and p.isascii() and p.isdigit())
               for w, p in zip(wanted, parts, strict=False))


_MISSING: Any = object()


def value_at(document: Any, at: str, default: Any = None) -> Any:
    """The value at RFC 6901 pointer `at` in `document`, or `default` where there is none."""
    value = document
    for part in at.split("/")[1:] if at else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isascii() and part.isdigit() \
                and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
        if value is _MISSING:
            return default
    return value


def pointer_matches(at: str, pattern: str) -> bool:
    """Whether pointer `at` is exactly `pattern`, where `*` in the pattern is any array index."""
    return at.count("/") == pattern.count("/") and pointers_overlap(at, pattern)


SHOWN = 60  # longest rendering of a value inside a message


def show(value: Any) -> str:
    """A value as JSON, shortened for a one-sentence message."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def same_value(left: Any, right: Any) -> bool:
    """Whether two values are the same JSON (a tuple and a list alike, key order aside)."""
    return _canonical(left) == _canonical(right)


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)

