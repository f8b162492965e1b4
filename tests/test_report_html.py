"""report.html through a real browser: headless Chromium opens it with no console message (no
script, nothing loaded from anywhere) and every finding is in the rendered page."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ghl_contract import reporters
from ghl_contract.findings import Report
from ghl_contract.suite.testing import run_suite
from report_samples import HOSTILE, run_report

BROWSER_TIMEOUT = 60.0  # seconds


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("No chromium binary: the browser test needs Debian's chromium package "
                    "(apt-get install chromium).")
    return found


class _Page(HTMLParser):
    """The text a reader sees (outside <head>), and the elements that could run or hide it."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.scripts = 0
        self.hidden = 0
        self._head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._head = self._head or tag == "head"
        self.scripts += tag == "script"
        names = dict(attrs)
        self.hidden += "hidden" in names or "display:none" in (names.get("style") or "")
        self.hidden += tag == "details" and "open" not in names

    def handle_endtag(self, tag: str) -> None:
        self._head = self._head and tag != "head"

    def handle_data(self, data: str) -> None:
        if not self._head:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def _open(page: Path, tmp_path: Path) -> tuple[_Page, list[str]]:
    """The page as Chromium rendered it, and what it wrote to its console."""
    completed = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "<html" in completed.stdout, completed.stderr[-2000:]
    rendered = _Page()
    rendered.feed(completed.stdout)
    console = [line for line in completed.stderr.splitlines() if ":CONSOLE" in line]
    return rendered, console


def _page(report: Report, path: Path) -> Path:
    stream = io.StringIO()
    reporters.write("html", report, stream)
    path.write_text(stream.getvalue(), encoding="utf-8")
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_console_check_sees_a_page_that_loads_something(tmp_path: Path) -> None:
    # The proof that the tests below can fail: the report's policy refuses an image, and the
    # browser says so on its console.
    page = _page(run_report(), tmp_path / "report.html")
    page.write_text(page.read_text(encoding="utf-8").replace(
        "<body>", '<body><img src="http://127.0.0.1:9/x.png" alt="">'), encoding="utf-8")
    _, console = _open(page, tmp_path)
    assert any("Content Security Policy" in line for line in console), console


def test_every_finding_of_the_sample_is_shown(tmp_path: Path) -> None:
    report = run_report()
    rendered, console = _open(_page(report, tmp_path / "report.html"), tmp_path)
    assert console == []
    assert (rendered.scripts, rendered.hidden) == (0, 0)
    shown = rendered.visible
    for finding in report.findings:
        assert _flat(finding.message) in shown
        assert _flat(finding.source or "") in shown
        assert finding.pointer in shown
    assert HOSTILE in shown  # as text: escaped, not run
    assert "Internal server error" in shown
    assert "curl -X POST 'http://127.0.0.1:4010/invoices/estimate/e0/invoice'" in shown
    assert report.baseline is not None
    for acknowledged in report.baseline.acknowledged:
        assert _flat(acknowledged.finding.source or "") in shown
    for entry in (*report.baseline.resolved, *report.baseline.expired):
        assert entry.pointer in shown
    for skipped in report.skipped:
        assert skipped.test in shown
        assert skipped.reason in shown
    for created in report.created:
        assert created.id in shown
    for label in ("http://127.0.0.1:4010 (live)", "2021-07-28", "1234",
                  "2026-12-03T08:15:02.123Z", "2026-12-03T08:15:09.456Z",
                  "26 passed, 11 failed, 2 skipped, 1 errored"):
        assert label in shown


def test_a_runs_own_report_opens_with_every_finding(tmp_path: Path) -> None:
    _chromium()  # before the run: skipped without a browser
    suite = run_suite("--max-examples", "3", "--hypothesis-profile", "ci", "--mock-drift",
                      "removed-required", report_dir=tmp_path / "reports")
    assert suite.code == 1, suite.output
    findings = json.loads((suite.report_dir / "drift-report.json").read_text("utf-8"))["findings"]
    assert findings
    rendered, console = _open(suite.report_dir / "report.html", tmp_path)
    assert console == []
    shown = rendered.visible
    for finding in findings:
        assert _flat(finding["source"]) in shown
        assert _flat(finding["message"]) in shown
    assert "The contract is broken" in shown
