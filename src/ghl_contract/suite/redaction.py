"""The run's secrets kept out of what pytest writes: its test reports (the terminal's failure
messages, junit.xml) and the junit.xml file itself, as the last line of defence.

The exchanges are redacted by the client and the findings before they are written; this catches a
secret that reached a failure message or a captured output some other way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ghl_contract.redact import ACTIVE_SECRETS, redact, redact_file, usable
from ghl_contract.settings import RunSettings

if TYPE_CHECKING:
    from ghl_contract.suite.context import RunContext


def run_secrets(settings: RunSettings, run: RunContext | None) -> tuple[str, ...]:
    """Every secret of the run: its token, its target's tokens, those of clients still open."""
    target = run.target.secrets if run is not None else ()
    return usable((settings.token, *target, *ACTIVE_SECRETS.snapshot()))


def redact_test_report(report: pytest.TestReport, secrets: tuple[str, ...]) -> None:
    """The report's failure text and captured sections, redacted in place (a failure text that
    held a secret becomes plain text, which the terminal and junit.xml both print)."""
    if not secrets:
        return
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        where, line, reason = report.longrepr
        report.longrepr = (where, line, redact(reason, secrets))
    elif report.longrepr is not None:
        text = str(report.longrepr)
        cleaned = redact(text, secrets)
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(name, redact(content, secrets)) for name, content in report.sections]


def redact_junit(path: Path | None, secrets: tuple[str, ...]) -> None:
    """junit.xml, rewritten redacted once pytest has written it."""
    if path is not None and secrets:
        redact_file(path, secrets)
