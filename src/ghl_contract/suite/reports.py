"""The run's reports: one `Report` written as drift-report.json and .md, and the terminal summary.

The findings carry the id of the test that saw them; the notes say what the run did besides: its
target and plan, the writes it skipped and why, the invoices it created (so they can be voided).
Every text passes through the one redaction before it leaves the process.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding, Report
from ghl_contract.redact import redact
from ghl_contract.reporters import write
from ghl_contract.reporters.common import plural, summary_sentence
from ghl_contract.suite.context import RunContext

JSON_NAME = "drift-report.json"
MARKDOWN_NAME = "drift-report.md"
JUNIT_NAME = "junit.xml"
SHOWN_FINDINGS = 20  # in the terminal summary; the reports list them all


@dataclass
class Outcome:
    """How the contract tests ended, counted as pytest reports them."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0

    def sentence(self) -> str:
        parts = [f"{self.passed} passed", f"{self.failed} failed", f"{self.skipped} skipped"]
        if self.errors:
            parts.append(f"{self.errors} errors")
        return "Contract tests: " + ", ".join(parts) + "."


def invoice_notes(run: RunContext) -> list[str]:
    """What the run created: each object on a live API (to clean it up), a count on the mock."""
    if not run.created:
        return []
    if run.target.embedded:
        kinds = {made.object for made in run.created}
        kind = kinds.pop() if len(kinds) == 1 else "object"
        return [f"{plural(len(run.created), kind)} created on the embedded mock "
                "(discarded with it)."]
    return [f"Created {made.object} {made.id} (number {made.number}) by {made.operation} "
            f"({made.made_from}) in location {made.location_id}: clean it up when done."
            for made in run.created]


def build(run: RunContext | None, outcome: Outcome, plan: list[str],
          target: str | None) -> Report:
    """The one report of the run."""
    report = Report()
    if target:
        report.notes.append(f"Target: {target}.")
    report.notes.extend(plan)
    if run is not None:
        report.findings = list(run.findings)
        report.checked = run.checked
        for reason, tests in run.skipped_writes.items():
            report.notes.append(f"{plural(len(tests), 'test')} skipped: {reason}")
        report.notes.extend(run.unsent_cases)
        report.notes.extend(invoice_notes(run))
        report.notes.extend(run.notes)
        if run.span is not None:
            report.notes.append(f"{plural(run.checked, 'exchange')} in "
                                f"{run.span[1] - run.span[0]:.2f} s, from the first request to "
                                "the last answer.")
        if run.stats:
            stats = run.stats
            report.notes.append(
                f"Requests sent: {stats.get('requests', 0)} ({stats.get('writes', 0)} writes, "
                f"{stats.get('retries', 0)} retries, {stats.get('rate_limit_waits', 0)} "
                "rate-limit waits).")
    report.notes.append(outcome.sentence())
    return report


def _text(fmt: str, report: Report, secrets: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    write(fmt, report, buffer)
    return redact(buffer.getvalue(), secrets)


def write_files(report: Report, directory: Path, secrets: tuple[str, ...]) -> list[Path]:
    """drift-report.json and .md in `directory`; the Markdown also goes to the job summary."""
    paths = [directory / JSON_NAME, directory / MARKDOWN_NAME]
    markdown = _text("markdown", report, secrets)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        paths[0].write_text(_text("json", report, secrets), encoding="utf-8")
        paths[1].write_text(markdown, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"The reports cannot be written to --report-dir {directory}: "
                         f"{exc.strerror or exc}.") from None
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with Path(summary).open("a", encoding="utf-8") as stream:
                stream.write(markdown + "\n")
        except OSError as exc:
            raise UsageError(f"The job summary $GITHUB_STEP_SUMMARY ({summary}) cannot be "
                             f"written: {exc.strerror or exc}.") from None
    return paths


def summary_lines(report: Report, run: RunContext | None, paths: list[Path]) -> list[str]:
    """The short summary both `pytest` and `ghl-contract run` print at the end."""
    sentence = summary_sentence(report)  # "N checked: ..."
    lines = [plural(report.checked, "exchange") + sentence[sentence.index(" checked"):]]
    lines.extend(_grouped("breaking", report.breaking))
    lines.extend(_grouped("non-breaking", report.non_breaking))
    if run is not None:
        for reason, tests in run.skipped_writes.items():
            lines.append(f"skipped {plural(len(tests), 'test')}: {reason}")
        lines.extend(run.unsent_cases)
        invoices = invoice_notes(run)
        lines.extend(invoices[:SHOWN_FINDINGS])
        if len(invoices) > SHOWN_FINDINGS:
            lines.append(f"… and {len(invoices) - SHOWN_FINDINGS} more objects to clean up, listed "
                         "in the drift report.")
        lines.extend(run.notes)
    if paths:
        lines.append("reports: " + ", ".join(str(path) for path in paths))
    return lines


def _grouped(label: str, findings: list[Finding]) -> list[str]:
    """One line per rule and pointer, with how many tests saw it."""
    if not findings:
        return []
    seen = Counter((f.rule, f.pointer) for f in findings)
    first = {(f.rule, f.pointer): f for f in reversed(findings)}
    lines = [f"{label}:"]
    for (rule, where), count in list(seen.items())[:SHOWN_FINDINGS]:
        tests = f" ({plural(count, 'test')})" if count > 1 else f" ({first[rule, where].source})"
        lines.append(f"  {where or '(whole answer)'}  {rule}{tests}: "
                     f"{first[rule, where].message}")
    if len(seen) > SHOWN_FINDINGS:
        lines.append(f"  … and {len(seen) - SHOWN_FINDINGS} more in the drift report.")
    return lines
