"""The Markdown report, for CI job summaries: a verdict, the run's facts, one row per group of
identical findings with how often and where it was seen, how to reproduce each, the baseline's
verdicts, then what a run skipped and created."""

from __future__ import annotations

import re
from typing import TextIO

from ghl_contract.findings import Cleanup, Group, Report, group
from ghl_contract.reporters.common import (
    by_reason,
    facts,
    origin,
    plural,
    seen,
    shown_pointer,
    summary_sentence,
)

# GitHub caps a job summary at 1 MiB; past this many rows the table says how many it left out.
MAX_ROWS = 1000
LISTED = 5  # tests named per skip reason; the JSON report names them all

_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def cell(text: str) -> str:
    """Plain text safe inside a table cell: Markdown and pipes escaped, HTML inert, one line."""
    text = _SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """`text` as an inline code span inside a table cell."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def block(text: str, language: str = "") -> list[str]:
    """`text` as a fenced code block, its fence longer than any run of backticks inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, text.replace("\r", ""), fence]


def _verdict(report: Report) -> str:
    if report.breaking:
        return "❌"
    return "⚠️" if report.findings or report.problems else "✅"


def _where(g: Group) -> str:
    if g.occurrences == 1:
        return origin(g.first) if g.first.source or g.first.status else ""
    return seen(g) + (f" (HTTP {g.status})" if g.status else "")


def _table(groups: list[Group], last: str, last_cell: dict[int, str] | None = None) -> list[str]:
    """One row per group; `last` names the final column (where it was seen, or why it is
    acknowledged: `last_cell` by group position). The operation has a column when the groups
    name several, a line above the table when they share one."""
    named = {g.operation for g in groups}
    operations = len(named) > 1
    head = ["Severity", "Rule", "Pointer", "Message", "Count", last]
    lines = []
    if operations:
        head.insert(0, "Operation")
    elif None not in named:
        lines.extend([f"Operation {code(next(iter(named)) or '')}:", ""])
    lines.extend(["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)])
    for position, g in enumerate(groups[:MAX_ROWS]):
        row = [g.severity.value, code(g.rule), code(shown_pointer(g)), cell(g.first.message),
               str(g.occurrences),
               cell(last_cell[position] if last_cell is not None else _where(g))]
        if operations:
            row.insert(0, code(g.operation) if g.operation else "")
        lines.append("| " + " | ".join(row) + " |")
    left = len(groups) - MAX_ROWS
    if left > 0:
        lines.extend(["", f"_{plural(left, 'more row')} not shown here; the JSON report has "
                          "them all._"])
    lines.append("")
    return lines


def _reproduce(groups: list[Group]) -> list[str]:
    lines: list[str] = []
    for g in groups[:MAX_ROWS]:
        example = g.reproducer
        if example is None:
            continue
        lines.append(f"**{code(g.rule)} at {code(shown_pointer(g))}**"
                     + (f" ({plural(g.occurrences, 'time')})" if g.occurrences > 1 else "")
                     + (f", from {cell(example.source)}" if example.source else "") + ":")
        lines.append("")
        if example.server_message:
            lines.extend([f"The server said: {cell(example.server_message)}", ""])
        if example.curl:
            lines.extend([*block(example.curl, "sh"), ""])
    return ["### How to reproduce", "", *lines] if lines else []


def _baseline(report: Report) -> list[str]:
    judgement = report.baseline
    if judgement is None:
        return []
    lines: list[str] = []
    if judgement.acknowledged:
        acknowledged = group(a.finding for a in judgement.acknowledged)
        by_finding = {id(a.finding): a.entry for a in judgement.acknowledged}
        why = {}
        for position, g in enumerate(acknowledged):
            entry = by_finding[id(g.first)]
            why[position] = (entry.reason or "(no reason given)") + (
                f" (until {entry.until.isoformat()})" if entry.until else "")
        lines.extend([f"### Acknowledged by the baseline {judgement.file or ''}".rstrip(), "",
                      "These findings do not fail the run.", ""])
        lines.extend(_table(acknowledged, "Reason", why))
    for title, entries, hint in (
            ("Resolved baseline entries", judgement.resolved,
             "No finding matches them any more: remove them from the baseline."),
            ("Expired baseline entries", judgement.expired,
             "Past their until date: their findings fail again.")):
        if entries:
            lines.extend([f"### {title}", "", hint, ""])
            for item in entries:
                extra = [item.reason] if item.reason else []
                if item.until:
                    extra.append(f"until {item.until.isoformat()}")
                lines.append(f"- {code(item.rule)} at {code(item.pointer or '(root)')}"
                             + (f" ({code(item.operation)})" if item.operation else "")
                             + (f": {cell('; '.join(extra))}" if extra else ""))
            lines.append("")
    return lines


def _run(report: Report) -> list[str]:
    """Tests by module, skipped tests by reason, created objects."""
    lines: list[str] = []
    if report.tests:
        lines.extend(["### Tests", "", "| Module | Passed | Failed | Skipped | Errored |",
                      "| --- | --- | --- | --- | --- |"])
        for name, counts in report.tests.items():
            lines.append(f"| {code(name)} | {counts.passed} | {counts.failed} | "
                         f"{counts.skipped} | {counts.errored} |")
        lines.append("")
    if report.skipped:
        lines.extend(["### Skipped", ""])
        for reason, tests in by_reason(report.skipped):
            named = ", ".join(code(test) for test in tests[:LISTED])
            more = f" and {len(tests) - LISTED} more" if len(tests) > LISTED else ""
            lines.append(f"- {cell(reason)} ({plural(len(tests), 'test')}: {named}{more})")
        lines.append("")
    if report.created:
        lines.extend(["### Created", ""])
        gone = [c for c in report.created if c.cleanup is Cleanup.DELETED]
        listed = [c for c in report.created if c.cleanup is not Cleanup.DELETED]
        if gone:
            kinds = sorted({c.kind for c in gone})
            where = " on the embedded mock (discarded with it)" if (
                report.target and report.target.embedded) else ", then deleted"
            lines.extend([f"{plural(len(gone), ' or '.join(kinds))} created{where}.", ""])
        if listed:
            lines.extend(["| Kind | Id | Number | Location | Cleanup |",
                          "| --- | --- | --- | --- | --- |"])
            for c in listed:
                lines.append(f"| {cell(c.kind)} | {code(c.id)} | {cell(str(c.number or ''))} | "
                             f"{code(c.location) if c.location else ''} | {c.cleanup.value} |")
            lines.append("")
    return lines


def write(report: Report, stream: TextIO) -> None:
    lines = ["## Contract drift", "", f"{_verdict(report)} {summary_sentence(report)}", ""]
    rows = facts(report)
    if rows:
        lines.extend(["| | |", "| --- | --- |"])
        lines.extend(f"| {label} | {cell(text)} |" for label, text in rows)
        lines.append("")
    groups = report.groups()
    if groups:
        lines.extend(_table(groups, "Seen in"))
        lines.extend(_reproduce(groups))
    lines.extend(_baseline(report))
    lines.extend(_run(report))
    for title, entries in (("Input problems", report.problems), ("Notes", report.notes)):
        if entries:
            lines.extend([f"### {title}", ""])
            lines.extend(f"- {cell(entry)}" for entry in entries)
            lines.append("")
    stream.write("\n".join(lines).rstrip("\n") + "\n")
