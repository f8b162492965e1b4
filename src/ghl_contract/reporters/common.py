"""What the report writers share: the one-sentence summary and grouping by payload source."""

from __future__ import annotations

from collections.abc import Iterator

from ghl_contract.findings import Finding, Report


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def summary_sentence(report: Report) -> str:
    """``12 checked: 2 findings (1 breaking, 1 non-breaking), 1 input problem.``"""
    counts = report.summary()
    if counts["findings"]:
        found = (f"{plural(counts['findings'], 'finding')} ({counts['breaking']} breaking, "
                 f"{counts['non_breaking']} non-breaking)")
    else:
        found = "no findings"
    problems = f", {plural(counts['problems'], 'input problem')}" if counts["problems"] else ""
    return f"{counts['checked']} checked: {found}{problems}."


def by_origin(findings: list[Finding]) -> Iterator[tuple[str, list[Finding]]]:
    """Findings grouped by where they were seen (see `origin`), in order of first appearance."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(origin(finding), []).append(finding)
    yield from groups.items()


def shown_pointer(finding: Finding) -> str:
    return finding.pointer or "(root)"


def origin(finding: Finding) -> str:
    """Where a finding was seen: its source, the HTTP status and HighLevel's traceId if known."""
    extra = [f"HTTP {finding.status}"] if finding.status else []
    if finding.trace_id:
        extra.append(f"traceId {finding.trace_id}")
    return (finding.source or "(no source)") + (f" ({', '.join(extra)})" if extra else "")
