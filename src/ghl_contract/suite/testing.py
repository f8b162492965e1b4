"""Runs `ghl-contract run` (or pytest on the packaged suite) in a child process, for tests.

pytest cannot run twice cleanly in one process, so the project's tests run the suite as a user
would: `python -m ghl_contract run ...`, with an environment free of the caller's GHL_*, CI and
PYTEST_* variables, and read back what it wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghl_contract.resources import contract_tests_dir

RUN_TIMEOUT = 120.0  # seconds: a run that takes longer is a failure of the test, not a hang

_DROPPED_PREFIXES = ("GHL_", "PYTEST_")
_DROPPED = ("CI", "GITHUB_STEP_SUMMARY")


@dataclass(frozen=True)
class SuiteRun:
    """What one child run of the suite left: exit code, output and the report directory."""

    code: int
    stdout: str
    stderr: str
    report_dir: Path

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.report_dir / "drift-report.json").read_text(encoding="utf-8"))
        return data

    def rules(self) -> set[tuple[str, str]]:
        """Every (rule, pointer) pair of the drift report."""
        return {(f["rule"], f["pointer"]) for f in self.report()["findings"]}

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def clean_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment without GHL_*, PYTEST_*, CI and the job summary, plus overrides.

    The runs share a cache directory of their own (Hypothesis' charmap takes a second to build),
    so that tests neither rebuild it each time nor write into the user's cache.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(_DROPPED_PREFIXES) and name not in _DROPPED}
    env["XDG_CACHE_HOME"] = str(Path(tempfile.gettempdir()) / "ghl-contract-test-cache")
    env.update(overrides or {})
    return env


def run_suite(*args: str, report_dir: Path, env: Mapping[str, str] | None = None,
              cwd: Path | None = None, through_pytest: bool = False) -> SuiteRun:
    """`ghl-contract run ARGS --report-dir REPORT_DIR` (or `pytest contract_tests ARGS ...`)."""
    if through_pytest:
        command = [sys.executable, "-m", "pytest", str(contract_tests_dir()), "-q", *args]
    else:
        command = [sys.executable, "-m", "ghl_contract", "run", *args]
    command += ["--report-dir", str(report_dir)]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
        env=clean_environment(env), cwd=cwd or report_dir.parent,
    )
    return SuiteRun(completed.returncode, completed.stdout, completed.stderr, report_dir)
