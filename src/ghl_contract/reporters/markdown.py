"""The Markdown report, for CI job summaries: a summary line, a table of findings, then lists."""

from __future__ import annotations

import re
from typing import TextIO

from ghl_contract.findings import Report
from ghl_contract.reporters.common import origin, plural, shown_pointer, summary_sentence

# GitHub caps a job summary at 1 MiB; past this many rows the table says how many it left out.
MAX_ROWS = 1000

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


def _verdict(report: Report) -> str:
    if report.breaking:
        return "❌"
    return "⚠️" if report.findings or report.problems else "✅"


def write(report: Report, stream: TextIO) -> None:
    lines = ["## Contract drift", "", f"{_verdict(report)} {summary_sentence(report)}", ""]
    if report.findings:
        lines.append("| Severity | Rule | Pointer | Message | Source |")
        lines.append("| --- | --- | --- | --- | --- |")
        for f in report.findings[:MAX_ROWS]:
            source = origin(f) if f.source or f.status else ""
            lines.append(f"| {f.severity.value} | {code(f.rule)} | {code(shown_pointer(f))} | "
                         f"{cell(f.message)} | {cell(source)} |")
        left = len(report.findings) - MAX_ROWS
        if left > 0:
            lines.append("")
            lines.append(f"_{plural(left, 'more finding')} not shown here._")
        lines.append("")
    for title, entries in (("Input problems", report.problems), ("Notes", report.notes)):
        if entries:
            lines.extend([f"### {title}", ""])
            lines.extend(f"- {cell(entry)}" for entry in entries)
            lines.append("")
    stream.write("\n".join(lines).rstrip("\n") + "\n")
