"""Baselines: which finding an entry matches, what a baseline makes of a run's findings (new,
acknowledged, resolved, expired), the file it writes (sorted, stable, reasons kept) and the
files it refuses, each in one sentence."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ghl_contract.baseline import (
    SCHEMA_PATH,
    UNSET,
    Baseline,
    Entry,
    dumps,
    entries_for,
    load,
    parse,
)
from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding, Report, Severity

OPERATION = "create-invoice-from-estimate"
TODAY = date(2026, 12, 3)


def _finding(pointer: str = "/estimate/items/3/productId", rule: str = "missing-required",
             operation: str | None = OPERATION, expected: Any = None, actual: Any = None,
             source: str = "t", severity: Severity = Severity.BREAKING) -> Finding:
    return Finding(pointer, rule, severity, "m.", expected, actual, source, 200,
                   operation=operation)


@pytest.mark.parametrize(("entry", "finding", "matches"), [
    pytest.param(Entry("missing-required", "/estimate/items/*/productId"), _finding(), True,
                 id="index-generalised"),
    pytest.param(Entry("missing-required", "/estimate/items/3/productId"), _finding(), True,
                 id="the-same-index"),
    pytest.param(Entry("missing-required", "/estimate/items/0/productId"), _finding(), False,
                 id="another-index"),
    pytest.param(Entry("missing-required", "/estimate/items/*"), _finding(), False,
                 id="a-parent-pointer"),
    pytest.param(Entry("missing-required", "/estimate/items/*/productId/x"), _finding(), False,
                 id="a-child-pointer"),
    pytest.param(Entry("missing-required", "/estimate/*/3/productId"), _finding(), False,
                 id="star-is-an-index-not-a-key"),
    pytest.param(Entry("type-changed", "/estimate/items/*/productId"), _finding(), False,
                 id="another-rule"),
    pytest.param(Entry("missing-required", "/estimate/items/*/productId", OPERATION),
                 _finding(), True, id="its-operation"),
    pytest.param(Entry("missing-required", "/estimate/items/*/productId", "other-operation"),
                 _finding(), False, id="another-operation"),
    pytest.param(Entry("missing-required", "/estimate/items/*/productId", OPERATION),
                 _finding(operation=None), True, id="a-finding-that-names-no-operation"),
    pytest.param(Entry("type-changed", "/a", expected=["number"], actual="string"),
                 _finding("/a", "type-changed", expected=("number",), actual="string"), True,
                 id="its-values"),
    pytest.param(Entry("type-changed", "/a", actual="string"),
                 _finding("/a", "type-changed", expected=["number"], actual="boolean"), False,
                 id="another-actual-value"),
    pytest.param(Entry("type-changed", "/a", actual=None),
                 _finding("/a", "type-changed", actual=None), True, id="null-actual"),
    pytest.param(Entry("type-changed", "/a", actual=None),
                 _finding("/a", "type-changed", actual="string"), False,
                 id="null-actual-is-a-value"),
    pytest.param(Entry("server-error", ""), _finding("", "server-error"), True,
                 id="the-whole-answer"),
])
def test_an_entry_matches(entry: Entry, finding: Finding, matches: bool) -> None:
    assert entry.matches(finding) is matches


def test_findings_are_new_or_acknowledged_and_unmatched_entries_resolved() -> None:
    acknowledged = Entry("missing-required", "/estimate/items/*/productId", reason="Known.")
    resolved = Entry("property-added", "/invoice/meta")
    new = _finding("/invoice/amountDue", "type-changed")
    findings = [_finding(), _finding("/estimate/items/0/productId"), new]
    judgement = Baseline((acknowledged, resolved), "b.json").judge(findings, TODAY)
    assert judgement.new == [new]
    assert [a.finding for a in judgement.acknowledged] == findings[:2]
    assert {a.entry for a in judgement.acknowledged} == {acknowledged}
    assert judgement.resolved == [resolved]
    assert judgement.expired == []


@pytest.mark.parametrize(("until", "acknowledged"), [
    pytest.param(date(2026, 12, 3), True, id="on-its-last-day"),
    pytest.param(date(2026, 12, 2), False, id="the-day-after"),
])
def test_until_is_the_last_day_an_entry_acknowledges(until: date, acknowledged: bool) -> None:
    entry = Entry("missing-required", "/estimate/items/*/productId", until=until)
    judgement = Baseline((entry,)).judge([_finding()], TODAY)
    assert bool(judgement.acknowledged) is acknowledged
    assert judgement.expired == ([] if acknowledged else [entry])
    assert judgement.resolved == []  # an expired entry that still matches is not resolved


def test_an_expired_entry_gives_way_to_one_still_valid() -> None:
    old = Entry("missing-required", "/estimate/items/3/productId", until=date(2020, 1, 1))
    current = Entry("missing-required", "/estimate/items/*/productId")
    judgement = Baseline((old, current)).judge([_finding()], TODAY)
    assert [a.entry for a in judgement.acknowledged] == [current]


def test_applied_to_a_report_the_acknowledged_findings_no_longer_fail_it() -> None:
    report = Report(findings=[_finding()], checked=1)
    assert report.exit_code() == 1
    Baseline((Entry("missing-required", "/estimate/items/*/productId"),)).apply(report, TODAY)
    assert report.findings == []
    assert report.exit_code() == 0
    assert report.exit_code(strict=True, strict_baseline=True) == 0
    assert report.summary()["acknowledged"] == 1


def test_a_resolved_entry_fails_only_a_strict_baseline() -> None:
    report = Report(checked=1)
    Baseline((Entry("missing-required", "/gone"),)).apply(report, TODAY)
    assert report.summary()["resolved"] == 1
    assert (report.exit_code(), report.exit_code(strict_baseline=True)) == (0, 1)


def test_entries_are_one_per_operation_rule_and_generalised_pointer_sorted() -> None:
    findings = [
        _finding("/invoice/total", "type-changed"),
        _finding("/estimate/items/0/productId"), _finding("/estimate/items/4/productId"),
        _finding("/estimate/sentTo", operation=None),
        _finding("/invoice/total", "type-changed", source="other"),
    ]
    assert [e.to_dict() for e in entries_for(findings)] == [
        {"rule": "missing-required", "pointer": "/estimate/sentTo"},
        {"operation": OPERATION, "rule": "missing-required",
         "pointer": "/estimate/items/*/productId"},
        {"operation": OPERATION, "rule": "type-changed", "pointer": "/invoice/total"},
    ]


def test_the_file_is_the_same_whatever_the_order_and_number_of_findings() -> None:
    findings = [_finding(f"/estimate/items/{n}/productId", source=str(n)) for n in range(5)]
    findings += [_finding("/invoice/total", "type-changed")]
    once = dumps(entries_for(findings))
    again = dumps(entries_for(list(reversed(findings))[:3] + findings))
    assert once == again
    assert once == (
        '{\n  "version": 1,\n  "entries": [\n'
        '    {"operation":"create-invoice-from-estimate","rule":"missing-required",'
        '"pointer":"/estimate/items/*/productId"},\n'
        '    {"operation":"create-invoice-from-estimate","rule":"type-changed",'
        '"pointer":"/invoice/total"}\n  ]\n}\n')


def test_values_are_matched_only_where_every_finding_agrees() -> None:
    findings = [_finding("/a", "type-changed", expected=["number"], actual="string"),
                _finding("/a", "type-changed", expected=["number"], actual="boolean")]
    [entry] = entries_for(findings, match_values=True)
    assert (entry.expected, entry.actual) == (["number"], UNSET)
    [plain] = entries_for(findings)
    assert (plain.expected, plain.actual) == (UNSET, UNSET)


def test_a_previous_entry_that_still_matches_is_kept_with_its_reason() -> None:
    previous = Entry("missing-required", "/estimate/items/*/productId", OPERATION,
                     reason="The sandbox has no products.", until=date(2027, 1, 31))
    gone = Entry("property-added", "/invoice/meta", reason="Gone since.")
    entries = entries_for([_finding(), _finding("/x", "type-changed")], [previous, gone])
    assert entries == [previous, Entry("type-changed", "/x", OPERATION)]


def test_the_written_file_reads_back_and_passes_its_schema() -> None:
    entries = [Entry("type-changed", "/a", "op", ["number"], None, "Why.", date(2027, 1, 31)),
               Entry("missing-required", "/b")]
    text = dumps(sorted(entries, key=Entry.sort_key))
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(json.loads(text))) == []
    assert parse(json.loads(text), "b.json").entries == tuple(sorted(entries,
                                                                     key=Entry.sort_key))


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(None, "The baseline {path} cannot be read: No such file or directory.",
                 id="missing"),
    pytest.param("{", "The baseline {path} is not JSON: ", id="not-json"),
    pytest.param('{"version": 1}', "The baseline {path} is not a baseline of ghl-contract: at "
                 "(the whole file), \"entries\" is a required property.", id="no-entries"),
    pytest.param('{"version": 1, "entries": [{"rule": "type-changed"}]}',
                 "at /entries/0, \"pointer\" is a required property.", id="entry-without-pointer"),
    pytest.param('{"version": 1, "entries": [{"rule": "x", "pointer": "a"}]}',
                 "at /entries/0/pointer, \"a\" does not match", id="pointer-not-a-pointer"),
    pytest.param('{"version": 2, "entries": []}', "at /version, 1 was expected.",
                 id="another-version"),
    pytest.param('{"version": 1, "entries": [{"rule": "x", "pointer": "", "until": "2026-02-30"}]}',
                 "is not a \"date\"", id="no-such-day"),
    pytest.param('{"version": 1, "entries": [{"rule": "x", "pointer": "/a"}, '
                 '{"rule": "x", "pointer": "/a", "reason": "Again."}]}',
                 "The baseline {path} lists x at /a twice; keep one.", id="twice"),
])
def test_a_bad_baseline_is_one_sentence(tmp_path: Path, content: str | None,
                                        message: str) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        load(path)
    text = str(raised.value)
    assert message.format(path=path) in text
    assert "\n" not in text
    assert text.endswith(".")
