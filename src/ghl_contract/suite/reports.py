"""The run's reports: one `Report` written as drift-report.json, .md and report.html, and the
terminal summary.

The report states the run's facts as fields: its target, API version, seed, start and end, how the
tests of each module ended, the tests skipped and why, the objects created (so that they can be
voided), the requests sent. The findings carry the id of the test that saw them; a baseline, when
given, sets apart the findings it acknowledges. Notes keep what only prose says (the plan, a drift
profile no test reached, why a run stopped). Every text passes through the one redaction
before it leaves the process.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from ghl_contract.baseline import Baseline
from ghl_contract.errors import UsageError
from ghl_contract.findings import (
    Cleanup,
    Counts,
    CreatedObject,
    Finding,
    Group,
    Report,
    RunTarget,
    SkippedTest,
    group,
    timestamp,
)
from ghl_contract.redact import redact
from ghl_contract.reporters import write
from ghl_contract.reporters.common import plural, summary_sentence
from ghl_contract.reporters.markdown import cell
from ghl_contract.settings import RunSettings
from ghl_contract.suite.context import RunContext

JSON_NAME = "drift-report.json"
MARKDOWN_NAME = "drift-report.md"
HTML_NAME = "report.html"
JUNIT_NAME = "junit.xml"
SHOWN_FINDINGS = 20  # groups in the terminal summary; the reports list them all


@dataclass
class Outcome:
    """How the contract tests ended, by module, as pytest reports them; and why tests skipped."""

    modules: dict[str, Counts] = field(default_factory=dict)
    skipped: list[SkippedTest] = field(default_factory=list)
    started: str = field(default_factory=timestamp)

    def add(self, report: pytest.TestReport) -> None:
        """Count one of pytest's reports (set-up, call or tear-down) of a contract test."""
        module = report.nodeid.split("::", 1)[0]
        counts = self.modules.setdefault(module, Counts())
        if report.outcome == "skipped":
            counts.skipped += 1
            self.skipped.append(SkippedTest(report.nodeid, _skip_reason(report)))
        elif report.outcome == "failed" and report.when == "call":
            counts.failed += 1
        elif report.outcome == "failed":
            counts.errored += 1
        elif report.when == "call":
            counts.passed += 1

    def total(self) -> Counts:
        total = Counts()
        for counts in self.modules.values():
            total.add(counts)
        return total


def _skip_reason(report: pytest.TestReport) -> str:
    expected = getattr(report, "wasxfail", None)
    if expected is not None:
        return f"Expected to fail: {expected}" if expected else "Expected to fail."
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "Skipped.")


DISCARDED = "discarded with the embedded mock"


def created_objects(run: RunContext) -> list[CreatedObject]:
    """What the run created: discarded with the embedded mock; on a live target, what cleanup
    did with each (the ledger)."""
    if run.target.embedded:
        return [replace(made, cleanup=Cleanup.DELETED, detail=DISCARDED) for made in run.created]
    return run.created


def _target(run: RunContext | None, settings: RunSettings) -> RunTarget:
    if run is not None:
        return RunTarget(run.target.base_url, run.target.embedded, run.target.description)
    if settings.base_url is not None:
        return RunTarget(settings.base_url, False, f"{settings.base_url} (live)")
    return RunTarget(None, True, "the embedded mock (not started: no test sent a request)")


def build(run: RunContext | None, outcome: Outcome, plan: list[str], settings: RunSettings, *,
          baseline: Baseline | None = None, seed: int | None = None) -> Report:
    """The one report of the run; `baseline` sets apart the findings it acknowledges."""
    report = Report(target=_target(run, settings), api_version=settings.api_version, seed=seed,
                    started=outcome.started, finished=timestamp(),
                    tests=dict(outcome.modules), skipped=list(outcome.skipped))
    report.notes.extend(plan)
    if run is not None:
        report.findings = list(run.findings)
        report.checked = run.checked
        report.created = created_objects(run)
        report.requests = dict(run.stats)
        report.notes.extend(run.unsent_cases)
        report.notes.extend(run.notes)
        if run.span is not None:
            report.notes.append(f"{plural(run.checked, 'exchange')} in "
                                f"{run.span[1] - run.span[0]:.2f} s, from the first request to "
                                "the last answer.")
    if baseline is not None:
        baseline.apply(report)
    return report


def _text(fmt: str, report: Report, secrets: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    write(fmt, report, buffer)
    # A token may hold _, which a Markdown cell escapes: its escaped form is a secret too.
    return redact(buffer.getvalue(), (*secrets, *(cell(secret) for secret in secrets)))


def write_files(report: Report, directory: Path, secrets: tuple[str, ...]) -> list[Path]:
    """drift-report.json, .md and report.html in `directory`; the Markdown also goes to the job
    summary."""
    files = {directory / JSON_NAME: _text("json", report, secrets),
             directory / MARKDOWN_NAME: _text("markdown", report, secrets),
             directory / HTML_NAME: _text("html", report, secrets)}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"The reports cannot be written to --report-dir {directory}: "
                         f"{exc.strerror or exc}.") from None
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with Path(summary).open("a", encoding="utf-8") as stream:
                stream.write(files[directory / MARKDOWN_NAME] + "\n")
        except OSError as exc:
            raise UsageError(f"The job summary $GITHUB_STEP_SUMMARY ({summary}) cannot be "
                             f"written: {exc.strerror or exc}.") from None
    return list(files)


def invoice_lines(report: Report) -> list[str]:
    """What a run created: a count when it is all gone; each object still on the target, with
    the command that removes it."""
    left = [c for c in report.created if c.left or c.cleanup is Cleanup.KEPT]
    done = [c for c in report.created if c not in left]
    if done and all(c.detail == DISCARDED for c in done):
        lines = [f"{plural(len(done), 'object')} created ({DISCARDED})."]
    else:
        lines = [f"{plural(len(done), 'object')} created and cleaned up "
                 f"({', '.join(sorted({c.cleanup.value for c in done}))})."] if done else []
        if done and any(f.curl for f in report.findings):
            lines.append("A reproduce command may name an object the run has since deleted: run "
                         "again with --cleanup none to keep what cleanup deletes, for replaying.")
    lines.extend(f"Left on the target: {c.kind} {c.id}" + (f" (number {c.number})" if c.number
                                                           else "")
                 + f" in location {c.location}: {c.cleanup.value}"
                 + (f" ({c.detail})" if c.detail else "") + "." for c in left)
    if any(c.left for c in left):
        lines.append("`ghl-contract cleanup REPORT_DIR` (with the run's --base-url and --token) "
                     "removes what is left.")
    return lines


def summary_lines(report: Report, run: RunContext | None, paths: list[Path]) -> list[str]:
    """The short summary both `pytest` and `ghl-contract run` print at the end."""
    sentence = summary_sentence(report)  # "N checked: ..."
    lines = [plural(report.checked, "exchange") + sentence[sentence.index(" checked"):]]
    lines.extend(_grouped("breaking", group(report.breaking)))
    lines.extend(_grouped("non-breaking", group(report.non_breaking)))
    judgement = report.baseline
    if judgement is not None:
        lines.extend(_grouped("acknowledged by the baseline",
                              group(a.finding for a in judgement.acknowledged), reproduce=False))
        for title, entries in (("resolved baseline entries (remove them)", judgement.resolved),
                               ("expired baseline entries (failing again)", judgement.expired)):
            if entries:
                lines.append(f"{title}:")
                lines.extend(f"  {entry.describe()}" for entry in entries[:SHOWN_FINDINGS])
                if len(entries) > SHOWN_FINDINGS:
                    lines.append(f"  … and {len(entries) - SHOWN_FINDINGS} more in the drift "
                                 "report.")
    if run is not None:
        for reason, tests in run.skipped_writes.items():
            lines.append(f"skipped {plural(len(tests), 'test')}: {reason}")
        lines.extend(run.unsent_cases)
    invoices = invoice_lines(report)
    lines.extend(invoices[:SHOWN_FINDINGS])
    if len(invoices) > SHOWN_FINDINGS:
        lines.append(f"… and {len(invoices) - SHOWN_FINDINGS} more objects left, listed in the "
                     "drift report.")
    if run is not None:
        lines.extend(run.notes)
    if paths:
        lines.append("reports: " + ", ".join(str(path) for path in paths))
    return lines


def _grouped(label: str, groups: list[Group], *, reproduce: bool = True) -> list[str]:
    """One line per group of identical findings, with how many tests saw it; the first curl
    command of each breaking group, so that a failure can be sent again at once."""
    if not groups:
        return []
    lines = [f"{label}:"]
    for g in groups[:SHOWN_FINDINGS]:
        first: Finding = g.first
        tests = {f.source for f in g.findings}
        seen = f" ({plural(len(tests), 'test')})" if len(tests) > 1 else f" ({first.source})"
        lines.append(f"  {g.pointer or '(whole answer)'}  {g.rule}{seen}: {first.message}")
        example = g.reproducer
        if reproduce and example is not None:
            if example.server_message:
                lines.append(f"    server said: {example.server_message}")
            if example.curl and g.breaking:
                lines.append(f"    reproduce: {example.curl}")
    if len(groups) > SHOWN_FINDINGS:
        lines.append(f"  … and {len(groups) - SHOWN_FINDINGS} more in the drift report.")
    return lines
