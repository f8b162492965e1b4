"""Writers over one `SpecDiff`: text for people, JSON for machines, Markdown for a pull request,
the HTML page of every report.

Every format groups the findings by operation and gives each operation one summary line; the
Markdown shows a table of the changed operations first, then the details, where a change seen
in several bodies (the same error schema under 400, 401 and 422) is one row, and operations with
the same changes share one section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

import orjson

from ghl_contract import reporters
from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding
from ghl_contract.reporters.common import plural
from ghl_contract.reporters.markdown import cell, code
from ghl_contract.specdiff._documents import SpecDiff
from ghl_contract.specdiff._operation import OperationDiff

_POINTER_WIDTH = 40  # longer pointers push their message right rather than the whole column
# A pull-request comment holds 65,536 characters: past this many detail rows the rest is counted.
MAX_ROWS = 200


def _counts(findings: list[Finding]) -> str:
    breaking = sum(1 for f in findings if f.breaking)
    return (f"{plural(len(findings), 'change')} ({breaking} breaking, "
            f"{len(findings) - breaking} non-breaking)")


def operation_summary(operation: OperationDiff) -> str:
    """One line: the operation, its route and what happened to it."""
    name = (operation.title if operation.operation == operation.title
            else f"{operation.operation} ({operation.title})")
    verdict = {
        "unchanged": "no change",
        "added": "new operation (non-breaking)",
        "removed": "removed (breaking)",
    }.get(operation.change) or _counts(operation.findings)
    return f"{name}: {verdict}"


def summary_sentence(diff: SpecDiff) -> str:
    """``42 operations compared: 1 changed, 1 added, 0 removed, 40 without change; ...``"""
    count = {change: sum(1 for op in diff.operations if op.change == change)
             for change in ("changed", "added", "removed", "unchanged")}
    findings = diff.findings
    found = _counts(findings) if findings else "no change"
    return (f"{plural(len(diff.operations), 'operation')} compared: {count['changed']} changed, "
            f"{count['added']} added, {count['removed']} removed, {count['unchanged']} without "
            f"change; {found}.")


def _shown_pointer(finding: Finding) -> str:
    return finding.pointer or "(root)"


# --- text -------------------------------------------------------------------------------------

def write_text(diff: SpecDiff, stream: TextIO) -> None:
    lines = [f"{diff.old} (old) compared with {diff.new} (new).", ""]
    for operation in diff.operations:
        lines.append(operation_summary(operation))
        if operation.change != "changed":
            continue
        groups: dict[str, list[Finding]] = {}
        for finding in operation.findings:
            groups.setdefault(finding.source or "", []).append(finding)
        for source, findings in groups.items():
            lines.append(f"  {source}")
            rule_width = max(len(f.rule) for f in findings)
            pointer_width = min(max(len(_shown_pointer(f)) for f in findings), _POINTER_WIDTH)
            lines.extend(f"    {f.severity.value:<12}  {f.rule:<{rule_width}}  "
                         f"{_shown_pointer(f):<{pointer_width}}  {f.message}" for f in findings)
        lines.append("")
    if lines[-1]:
        lines.append("")
    if diff.notes:
        lines.append("Notes:")
        lines.extend(f"  {note}" for note in diff.notes)
        lines.append("")
    lines.append(summary_sentence(diff))
    stream.write("\n".join(lines) + "\n")


# --- JSON -------------------------------------------------------------------------------------

def to_dict(diff: SpecDiff) -> dict[str, Any]:
    """The drift report (`Report.to_dict`, drift-report.schema.json), each finding naming its
    operation, with a ``diff`` section: the two sides and a summary of each operation compared."""
    data = diff.report().to_dict()
    data["diff"] = {
        "old": diff.old,
        "new": diff.new,
        "summary": {"operations": len(diff.operations),
                    **{change: sum(1 for op in diff.operations if op.change == change)
                       for change in ("changed", "added", "removed", "unchanged")}},
        "operations": [{
            "operation": op.operation,
            "route": op.title,
            "change": op.change,
            "breaking": len(op.breaking),
            "non_breaking": len(op.non_breaking),
            "compared": list(op.compared),
            "summary": operation_summary(op),
        } for op in diff.operations],
    }
    return data


def write_json(diff: SpecDiff, stream: TextIO) -> None:
    stream.write(orjson.dumps(to_dict(diff), default=str, option=orjson.OPT_INDENT_2).decode())
    stream.write("\n")


# --- Markdown ---------------------------------------------------------------------------------

Row = tuple[str, str, str, str]  # severity, rule, pointer, message


def _rows(operation: OperationDiff) -> dict[Row, list[str]]:
    """The operation's changes, each once, with every body it was seen in."""
    rows: dict[Row, list[str]] = {}
    for f in operation.findings:
        row = (f.severity.value, f.rule, _shown_pointer(f), f.message)
        rows.setdefault(row, []).append(f.source or "")
    return rows


def _where(sources: list[str]) -> str:
    """``response 400, 401, 422`` rather than the word three times."""
    responses = [s.removeprefix("response ") for s in sources if s.startswith("response ")]
    others = [s for s in sources if not s.startswith("response ")]
    shown = others + ([f"response {', '.join(responses)}"] if responses else [])
    return ", ".join(shown)


def _verdict(findings: list[Finding]) -> str:
    if any(f.breaking for f in findings):
        return "❌"
    return "⚠️" if findings else "✅"


def write_markdown(diff: SpecDiff, stream: TextIO) -> None:
    lines = ["## Contract diff", "",
             f"{_verdict(diff.findings)} {cell(summary_sentence(diff))}", "",
             f"Old: {code(diff.old)} · new: {code(diff.new)}", ""]
    changed = [op for op in diff.operations if op.change != "unchanged"]
    unchanged = [op for op in diff.operations if op.change == "unchanged"]
    if changed:
        lines += ["| | Operation | Route | Change | Breaking | Non-breaking |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {_verdict(op.findings)} | {code(op.operation)} | {code(op.title)} | "
                  f"{op.change} | {len(op.breaking)} | {len(op.non_breaking)} |"
                  for op in changed]
        lines.append("")
    if unchanged:
        lines += [f"<details><summary>{plural(len(unchanged), 'operation')} without change"
                  "</summary>", "",
                  ", ".join(code(op.operation) for op in unchanged), "", "</details>", ""]
    lines += _details([op for op in changed if op.change == "changed"])
    if diff.notes:
        lines += ["### Notes", ""]
        lines += [f"- {cell(note)}" for note in diff.notes]
        lines.append("")
    stream.write("\n".join(lines).rstrip("\n") + "\n")


def _details(changed: list[OperationDiff]) -> list[str]:
    # Operations with the very same changes (a shared schema changed) share one section.
    sections: dict[tuple[tuple[Row, tuple[str, ...]], ...], list[OperationDiff]] = {}
    for op in changed:
        rows = tuple((row, tuple(sources)) for row, sources in _rows(op).items())
        sections.setdefault(rows, []).append(op)
    lines: list[str] = []
    shown = 0
    left = 0
    for rows, ops in sections.items():
        if shown >= MAX_ROWS:
            left += len(rows)
            continue
        names = ", ".join(f"{code(op.operation)} ({code(op.title)})" for op in ops)
        lines += [f"### {names}", "",
                  "| Severity | Rule | Pointer | Change | Where |",
                  "| --- | --- | --- | --- | --- |"]
        for (severity, rule, at, message), sources in rows:
            if shown >= MAX_ROWS:
                left += 1
                continue
            lines.append(f"| {severity} | {code(rule)} | {code(at)} | {cell(message)} | "
                         f"{cell(_where(list(sources)))} |")
            shown += 1
        lines.append("")
    if left:
        lines += [f"_{plural(left, 'more row')} not shown here: the JSON report lists every "
                  "change._", ""]
    return lines


def write_html(diff: SpecDiff, stream: TextIO) -> None:
    """The page every report has, over the diff's findings (grouped by operation there)."""
    reporters.write("html", diff.report(), stream)


_WRITERS: dict[str, Callable[[SpecDiff, TextIO], None]] = {
    "text": write_text,
    "json": write_json,
    "markdown": write_markdown,
    "html": write_html,
}

FORMATS: tuple[str, ...] = tuple(_WRITERS)


def write(fmt: str, diff: SpecDiff, stream: TextIO) -> None:
    """Write `diff` to `stream` in format `fmt` (one of FORMATS)."""
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise UsageError(f"Unknown report format {fmt!r}; choose one of "
                         f"{', '.join(FORMATS)}.") from None
    writer(diff, stream)
