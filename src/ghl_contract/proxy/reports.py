"""The session's reports, written when the proxy stops: the run's usual files, and a summary.

drift-report.json, drift-report.md (and report.html where the reporters have that format) are the
product's writers over one `Report`; junit.xml has one test case per operation the session saw,
failed when its exchanges had a breaking finding, so that a CI job reads the session as it reads a
run. Every file's text passes through the session's redaction before it is written.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding, Report
from ghl_contract.proxy.redaction import Secrets
from ghl_contract.reporters import FORMATS, write
from ghl_contract.reporters.common import plural, shown_pointer, summary_sentence

FILES = {"json": "drift-report.json", "markdown": "drift-report.md", "html": "report.html"}
JUNIT_NAME = "junit.xml"
SUITE = "ghl-contract proxy"
SHOWN_GROUPS = 20  # (rule, pointer) lines in the summary and in a junit failure


def write_reports(report: Report, directory: Path, secrets: Secrets,
                  operations: Iterable[str]) -> list[Path]:
    """The report files in `directory`, redacted; their paths. `operations`: those judged."""
    texts: dict[Path, str] = {}
    for fmt, name in FILES.items():
        if fmt in FORMATS:
            buffer = io.StringIO()
            write(fmt, report, buffer)
            texts[directory / name] = secrets.text(buffer.getvalue())
    texts[directory / JUNIT_NAME] = secrets.text(junit(report, operations))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in texts.items():
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"The reports cannot be written to --report-dir {directory}: "
                         f"{exc.strerror or exc}.") from None
    return list(texts)


def _grouped(findings: list[Finding]) -> list[str]:
    """One line per (rule, pointer): how often, and the first message."""
    counts = Counter((f.rule, f.pointer) for f in findings)
    first = {(f.rule, f.pointer): f for f in reversed(findings)}
    lines = [f"{first[key].severity.value} {key[0]} at {shown_pointer(first[key])} "
             f"({plural(count, 'time')}, first {first[key].source}): {first[key].message}"
             for key, count in list(counts.items())[:SHOWN_GROUPS]]
    if len(counts) > SHOWN_GROUPS:
        lines.append(f"… and {len(counts) - SHOWN_GROUPS} more in the reports.")
    return lines


def junit(report: Report, operations: Iterable[str]) -> str:
    """JUnit XML: a test case per operation judged, failed by its breaking findings."""
    by_operation: dict[str, list[Finding]] = {operation: [] for operation in operations}
    for f in report.findings:
        by_operation.setdefault(f.operation or "(no operation)", []).append(f)
    failed = sum(1 for found in by_operation.values() if any(f.breaking for f in found))
    suite = ET.Element("testsuite", name=SUITE, tests=str(len(by_operation)),
                       failures=str(failed), errors="0", skipped="0")
    for operation, found in by_operation.items():
        case = ET.SubElement(suite, "testcase", classname=SUITE, name=operation)
        breaking = [f for f in found if f.breaking]
        if breaking:
            failure = ET.SubElement(case, "failure",
                                    message=f"{plural(len(breaking), 'breaking finding')}")
            failure.text = "\n".join(_grouped(breaking))
        others = [f for f in found if not f.breaking]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_grouped(others))
    ET.SubElement(suite, "system-out").text = "\n".join(report.notes)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def summary(report: Report, paths: list[Path]) -> list[str]:
    """What the proxy prints when it stops: the counts, the findings by rule and pointer."""
    sentence = summary_sentence(report)
    lines = [plural(report.checked, "exchange") + sentence[sentence.index(" checked"):]]
    lines.extend(_grouped(report.findings))
    lines.extend(report.notes[1:2])  # how many were forwarded
    if paths:
        lines.append("reports: " + ", ".join(str(path) for path in paths))
    return lines
