"""Baselines: the findings a team has acknowledged, so that only new drift fails.

A baseline file (format: baseline.schema.json beside this module) lists entries. An entry matches a
finding on its rule and pointer (a `*` segment is any array index), on its operation when it names
one, and on its expected and actual values when it gives them. `Baseline.judge` sorts the findings
of a run, a `check` (or anything else that reports findings) into new and acknowledged, and names
the entries that matched nothing: resolved, so that the file can shrink. An entry may carry a
`reason` for the reviewer and an `until` date after which it acknowledges nothing: its findings
fail again.

`entries_for` turns the findings of drift reports into entries: one per operation, rule and
generalised pointer, sorted, with no count or date in them, so the file is the same from one run to
the next and a pull request shows only what changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from ghl_contract.errors import UsageError
from ghl_contract.findings import (
    Finding,
    Report,
    Severity,
    generalise,
    pointer,
    pointer_matches,
    same_value,
)

SCHEMA_PATH = Path(__file__).resolve().with_name("baseline.schema.json")
FORMAT_VERSION = 1


class _Unset(Enum):
    UNSET = "unset"


# An entry without `expected` (or `actual`) matches any value, null included.
UNSET = _Unset.UNSET


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Entry:
    """One acknowledged difference."""

    rule: str
    pointer: str  # `*` segments: any array index
    operation: str | None = None  # None: any operation
    expected: Any = UNSET
    actual: Any = UNSET
    reason: str | None = None
    until: date | None = None  # the last day it acknowledges

    def matches(self, finding: Finding) -> bool:
        """Whether this entry describes `finding` (its `until` aside)."""
        return (finding.rule == self.rule
                and (self.operation is None or finding.operation is None
                     or finding.operation == self.operation)
                and pointer_matches(finding.pointer, self.pointer)
                and (self.expected is UNSET or same_value(finding.expected, self.expected))
                and (self.actual is UNSET or same_value(finding.actual, self.actual)))

    def expired(self, on: date) -> bool:
        return self.until is not None and on > self.until

    def sort_key(self) -> tuple[str, str, str, bytes, bytes]:
        return (self.operation or "", self.rule, self.pointer, _sortable(self.expected),
                _sortable(self.actual))

    def describe(self) -> str:
        """``missing-required at /estimate/sentTo (create-invoice-from-estimate)``."""
        where = f"{self.rule} at {self.pointer or '(root)'}"
        return where + (f" ({self.operation})" if self.operation else "")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.operation is not None:
            data["operation"] = self.operation
        data["rule"], data["pointer"] = self.rule, self.pointer
        if self.expected is not UNSET:
            data["expected"] = self.expected
        if self.actual is not UNSET:
            data["actual"] = self.actual
        if self.reason is not None:
            data["reason"] = self.reason
        if self.until is not None:
            data["until"] = self.until.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str) -> Entry:
        """An entry as the schema allows it; `name` (the file) for the message of a bad date."""
        until = data.get("until")
        try:
            day = date.fromisoformat(until) if until is not None else None
        except ValueError:
            raise UsageError(f"The baseline {name} has an until date {until!r} that is not a "
                             "day of the calendar (YYYY-MM-DD).") from None
        return cls(rule=data["rule"], pointer=data["pointer"], operation=data.get("operation"),
                   expected=data.get("expected", UNSET), actual=data.get("actual", UNSET),
                   reason=data.get("reason"), until=day)


def _sortable(value: Any) -> bytes:
    return b"" if value is UNSET else orjson.dumps(value, default=str,
                                                   option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class Acknowledged:
    """A finding a baseline entry acknowledges."""

    finding: Finding
    entry: Entry

    def to_dict(self) -> dict[str, Any]:
        return {"finding": self.finding.to_dict(), "entry": self.entry.to_dict()}


@dataclass
class Judgement:
    """What a baseline made of a list of findings."""

    file: str | None  # the baseline file, as the user named it
    new: list[Finding] = field(default_factory=list)  # these count as before
    acknowledged: list[Acknowledged] = field(default_factory=list)
    resolved: list[Entry] = field(default_factory=list)  # matched no finding
    expired: list[Entry] = field(default_factory=list)  # past `until`, still matching findings

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file,
                "acknowledged": [a.to_dict() for a in self.acknowledged],
                "resolved": [e.to_dict() for e in self.resolved],
                "expired": [e.to_dict() for e in self.expired]}


@dataclass(frozen=True)
class Baseline:
    """The entries of one baseline file."""

    entries: tuple[Entry, ...]
    file: str | None = None
    _by_rule: dict[str, list[Entry]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_rule: dict[str, list[Entry]] = {}
        for entry in self.entries:  # a finding is compared with the entries of its rule only
            by_rule.setdefault(entry.rule, []).append(entry)
        object.__setattr__(self, "_by_rule", by_rule)

    def _candidates(self, finding: Finding) -> list[Entry]:
        return [entry for entry in self._by_rule.get(finding.rule, ()) if entry.matches(finding)]

    def acknowledging(self, finding: Finding, on: date | None = None) -> Entry | None:
        """The entry that acknowledges `finding` on day `on` (default today, UTC), or None."""
        on = on or today()
        return next((e for e in self._candidates(finding) if not e.expired(on)), None)

    def judge(self, findings: Iterable[Finding], on: date | None = None) -> Judgement:
        """Each finding new or acknowledged; the entries that matched none are resolved."""
        on = on or today()
        judgement = Judgement(self.file)
        matched: set[int] = set()
        expired: dict[int, Entry] = {}
        for finding in findings:
            candidates = self._candidates(finding)
            matched.update(id(entry) for entry in candidates)
            entry = next((e for e in candidates if not e.expired(on)), None)
            if entry is not None:
                judgement.acknowledged.append(Acknowledged(finding, entry))
                continue
            judgement.new.append(finding)
            expired.update((id(e), e) for e in candidates)
        judgement.resolved = [e for e in self.entries if id(e) not in matched]
        judgement.expired = [e for e in self.entries if id(e) in expired]
        return judgement

    def apply(self, report: Report, on: date | None = None) -> Report:
        """`report` with the acknowledged findings moved out of its findings (in place)."""
        judgement = self.judge(report.findings, on)
        report.findings = judgement.new
        report.baseline = judgement
        return report


@cache
def _validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")),
                                       validate_formats=True)


def parse(data: Any, name: str) -> Baseline:
    """A baseline from its JSON; a document the schema refuses is one UsageError sentence."""
    error = next(iter(_validator().iter_errors(data)), None)
    if error is not None:
        at = pointer(error.instance_path) or "(the whole file)"
        raise UsageError(f"The baseline {name} is not a baseline of ghl-contract: at {at}, "
                         f"{error.message}.")
    entries = tuple(Entry.from_dict(item, name) for item in data["entries"])
    seen: set[tuple[str, str, str, bytes, bytes]] = set()
    for entry in entries:
        if entry.sort_key() in seen:
            raise UsageError(f"The baseline {name} lists {entry.describe()} twice; keep one.")
        seen.add(entry.sort_key())
    return Baseline(entries, name)


def load(path: Path | str) -> Baseline:
    """Read a baseline file; an unreadable or invalid one is one UsageError sentence."""
    name = str(path)
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise UsageError(f"The baseline {name} cannot be read: {exc.strerror or exc}.") from None
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"The baseline {name} is not JSON: {exc}.") from None
    return parse(data, name)


def entries_for(findings: Iterable[Finding], previous: Sequence[Entry] = (), *,
                match_values: bool = False) -> list[Entry]:
    """Entries that acknowledge every one of `findings`, sorted.

    A previous entry that still matches findings is kept as it is (its reason, its until, its
    values); the other findings get one entry per operation, rule and generalised pointer, with
    their expected and actual values under `match_values` when all its findings agree on them.
    """
    kept: dict[int, Entry] = {}
    uncovered: dict[tuple[str | None, str, str], list[Finding]] = {}
    for finding in findings:
        earlier = next((e for e in previous if e.matches(finding)), None)
        if earlier is not None:
            kept[id(earlier)] = earlier
            continue
        key = (finding.operation, finding.rule, generalise(finding.pointer))
        uncovered.setdefault(key, []).append(finding)
    entries = list(kept.values())
    for (operation, rule, at), found in uncovered.items():
        expected: Any = UNSET
        actual: Any = UNSET
        if match_values:
            first = found[0]
            if all(same_value(f.expected, first.expected) for f in found):
                expected = first.expected
            if all(same_value(f.actual, first.actual) for f in found):
                actual = first.actual
        entries.append(Entry(rule, at, operation, expected, actual))
    return sorted(entries, key=Entry.sort_key)


def dumps(entries: Sequence[Entry]) -> str:
    """The baseline file's text: one entry per line, keys in a fixed order, sorted entries."""
    lines = [orjson.dumps(entry.to_dict(), default=str).decode() for entry in entries]
    body = ",\n".join(f"    {line}" for line in lines)
    return (f'{{\n  "version": {FORMAT_VERSION},\n  "entries": [\n'
            + (body + "\n" if body else "") + "  ]\n}\n")


def report_findings(data: Mapping[str, Any]) -> tuple[list[Finding], list[Entry]]:
    """The findings of a drift report (new and acknowledged alike), and the baseline entries it
    names (to keep their reasons); `data` has passed the drift report's schema."""
    findings = [_finding(item) for item in data["findings"]]
    entries: list[Entry] = []
    baseline = data.get("baseline")
    if baseline:
        name = str(baseline.get("file") or "of the report")
        for item in baseline["acknowledged"]:
            findings.append(_finding(item["finding"]))
            entries.append(Entry.from_dict(item["entry"], name))
        entries.extend(Entry.from_dict(item, name) for item in baseline["expired"])
    unique: dict[tuple[str, str, str, bytes, bytes], Entry] = {}
    for entry in entries:
        unique.setdefault(entry.sort_key(), entry)
    return findings, list(unique.values())


def _finding(item: Mapping[str, Any]) -> Finding:
    return Finding(item["pointer"], item["rule"], Severity(item["severity"]), item["message"],
                   item.get("expected"), item.get("actual"), item.get("source"),
                   item.get("status"), item.get("trace_id"), item.get("operation"))


def from_options(path: Path | str | None, strict: bool) -> Baseline | None:
    """The baseline of `--baseline PATH` (None without it); `--strict-baseline` needs it."""
    if path is None:
        if strict:
            raise UsageError("--strict-baseline needs --baseline FILE.")
        return None
    return load(path)
