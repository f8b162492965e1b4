"""The text report, for people: findings grouped by payload and where it came from, counts last."""

from __future__ import annotations

from typing import TextIO

from ghl_contract.findings import Report
from ghl_contract.reporters.common import by_origin, shown_pointer, summary_sentence

_POINTER_WIDTH = 40  # longer pointers push their message right rather than the whole column


def write(report: Report, stream: TextIO) -> None:
    lines: list[str] = []
    for where, findings in by_origin(report.findings):
        lines.append(where)
        rule_width = max(len(f.rule) for f in findings)
        pointer_width = min(max(len(shown_pointer(f)) for f in findings), _POINTER_WIDTH)
        for f in findings:
            lines.append(f"  {f.severity.value:<12}  {f.rule:<{rule_width}}  "
                         f"{shown_pointer(f):<{pointer_width}}  {f.message}")
        lines.append("")
    for title, entries in (("Input problems:", report.problems), ("Notes:", report.notes)):
        if entries:
            lines.append(title)
            lines.extend(f"  {entry}" for entry in entries)
            lines.append("")
    lines.append(summary_sentence(report))
    stream.write("\n".join(lines) + "\n")
