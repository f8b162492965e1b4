"""The text report, for people: findings grouped by payload and where it came from, counts last."""

from __future__ import annotations

from typing import TextIO

from ghl_contract.baseline import Entry
from ghl_contract.findings import Report, group
from ghl_contract.reporters.common import by_origin, plural, shown_pointer, summary_sentence

_POINTER_WIDTH = 40  # longer pointers push their message right rather than the whole column


def _entry(entry: Entry) -> str:
    extra = [entry.reason] if entry.reason else []
    if entry.until:
        extra.append(f"until {entry.until.isoformat()}")
    return f"  {entry.describe()}" + (f": {'; '.join(extra)}" if extra else "")


def _baseline(report: Report) -> list[str]:
    judgement = report.baseline
    if judgement is None:
        return []
    lines: list[str] = []
    if judgement.acknowledged:
        reasons = {id(a.finding): a.entry.reason for a in judgement.acknowledged}
        lines.append("Acknowledged by the baseline (not failing):")
        for g in group(a.finding for a in judgement.acknowledged):
            times = f" ({plural(g.occurrences, 'time')})" if g.occurrences > 1 else ""
            reason = reasons[id(g.first)]
            lines.append(f"  {g.severity.value:<12}  {g.rule}  {shown_pointer(g)}  "
                         f"{g.first.message}{times}" + (f" Reason: {reason}" if reason else ""))
        lines.append("")
    for title, entries in (("Resolved baseline entries (no finding matches them: remove them):",
                            judgement.resolved),
                           ("Expired baseline entries (their findings fail again):",
                            judgement.expired)):
        if entries:
            lines.append(title)
            lines.extend(_entry(entry) for entry in entries)
            lines.append("")
    return lines


def write(report: Report, stream: TextIO) -> None:
    lines: list[str] = []
    for where, findings in by_origin(report.findings):
        lines.append(where)
        rule_width = max(len(f.rule) for f in findings)
        pointer_width = min(max(len(shown_pointer(f)) for f in findings), _POINTER_WIDTH)
        for f in findings:
            lines.append(f"  {f.severity.value:<12}  {f.rule:<{rule_width}}  "
                         f"{shown_pointer(f):<{pointer_width}}  {f.message}")
            if f.server_message:
                lines.append(f"    server said: {f.server_message}")
            if f.curl:
                lines.append(f"    reproduce: {f.curl}")
        lines.append("")
    lines.extend(_baseline(report))
    for title, entries in (("Input problems:", report.problems), ("Notes:", report.notes)):
        if entries:
            lines.append(title)
            lines.extend(f"  {entry}" for entry in entries)
            lines.append("")
    lines.append(summary_sentence(report))
    stream.write("\n".join(lines) + "\n")
