"""What the report writers share: the one-sentence summary, and findings grouped for reading."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ghl_contract.findings import Finding, Group, Report, SkippedTest


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def summary_sentence(report: Report) -> str:
    """``12 checked: 2 findings (1 breaking, 1 non-breaking), 1 input problem.``; with a
    baseline, ``..., 3 acknowledged, 1 resolved baseline entry``."""
    counts = report.summary()
    if counts["findings"]:
        found = (f"{plural(counts['findings'], 'finding')} ({counts['breaking']} breaking, "
                 f"{counts['non_breaking']} non-breaking)")
    else:
        found = "no findings" if report.baseline is None else "no new findings"
    if report.baseline is not None:
        resolved = plural(counts["resolved"], "resolved baseline entry",
                          "resolved baseline entries")
        found += f", {counts['acknowledged']} acknowledged by the baseline, {resolved}"
    problems = f", {plural(counts['problems'], 'input problem')}" if counts["problems"] else ""
    return f"{counts['checked']} checked: {found}{problems}."


def by_origin(findings: list[Finding]) -> Iterator[tuple[str, list[Finding]]]:
    """Findings grouped by where they were seen (see `origin`), in order of first appearance."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(origin(finding), []).append(finding)
    yield from groups.items()


def shown_pointer(finding: Finding | Group) -> str:
    return finding.pointer or "(root)"


def origin(finding: Finding) -> str:
    """Where a finding was seen: its source, the HTTP status and HighLevel's traceId if known."""
    extra = [f"HTTP {finding.status}"] if finding.status else []
    if finding.trace_id:
        extra.append(f"traceId {finding.trace_id}")
    return (finding.source or "(no source)") + (f" ({', '.join(extra)})" if extra else "")


def seen(group: Group) -> str:
    """``test_a, test_b, test_c and 5 more`` (the group's first sources, how many others)."""
    examples = group.examples()
    rest = len({f.source for f in group.findings if f.source}) - len(examples)
    return ", ".join(examples) + (f" and {rest} more" if rest > 0 else "")


def by_reason(skipped: Sequence[SkippedTest]) -> list[tuple[str, list[str]]]:
    """Skipped tests by reason, in order of first appearance."""
    reasons: dict[str, list[str]] = {}
    for test in skipped:
        reasons.setdefault(test.reason, []).append(test.test)
    return list(reasons.items())


def facts(report: Report) -> list[tuple[str, str]]:
    """A run's facts as label and text: target, version, seed, times, tests, tool."""
    if report.target is None:
        return []
    rows = [("Target", report.target.description)]
    if report.api_version:
        rows.append(("API version", report.api_version))
    if report.seed is not None:
        rows.append(("Seed", str(report.seed)))
    if report.started:
        rows.append(("Started", report.started))
    if report.finished:
        rows.append(("Finished", report.finished))
    rows.append(("Tests", report.total().sentence()))
    if report.requests:
        stats = report.requests
        rows.append(("Requests", f"{stats.get('requests', 0)} sent ("
                                 f"{plural(stats.get('writes', 0), 'write')}, "
                                 f"{plural(stats.get('retries', 0), 'retry', 'retries')}, "
                                 f"{plural(stats.get('rate_limit_waits', 0), 'rate-limit wait')})"))
    rows.append(("Tool", f"ghl-contract {report.tool_version}"))
    return rows
