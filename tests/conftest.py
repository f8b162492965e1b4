"""Fixtures shared by the project's own tests: paths to data, documented payloads, a clean env."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.findings import Finding
from ghl_contract.judge import expect
from ghl_contract.registry import pinned
from ghl_contract.resources import example_path
from ghl_contract.suite.examine import Examiner
from ghl_contract.transport import Exchange

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "tests" / "data" / "vendor-openapi"


@pytest.fixture(scope="session")
def vendor_dir() -> Path:
    """HighLevel's published OpenAPI files (CC0), copied into tests/data (see SOURCES.md there)."""
    if not (VENDOR / "invoices.json").is_file():
        pytest.fail(f"The vendor OpenAPI files are missing: expected {VENDOR}/invoices.json.")
    return VENDOR


@pytest.fixture(scope="session")
def _documented() -> dict[str, Any]:
    return {
        "request": json.loads(example_path("request").read_text(encoding="utf-8")),
        "response": json.loads(example_path("response-200").read_text(encoding="utf-8")),
    }


@pytest.fixture
def documented_request(_documented: dict[str, Any]) -> dict[str, Any]:
    """The documented request body; a fresh copy each test may change."""
    return copy.deepcopy(_documented["request"])


@pytest.fixture
def documented_response(_documented: dict[str, Any]) -> dict[str, Any]:
    """The documented 200 body; a fresh copy each test may change."""
    return copy.deepcopy(_documented["response"])


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GHL_* variable of the developer's shell leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("GHL_") or name == "GITHUB_STEP_SUMMARY":
            monkeypatch.delenv(name)


# What an answer can do wrong as a whole (besides its body's shape): the transport's faults, then
# the judge's verdict on the body as it travelled.
ANSWER_RULES = frozenset({"server-error", "not-json", "truncated-json", "wrong-content-type",
                          "empty-body", "timeout", "connection-error", "outcome-unknown",
                          "rate-limited"})


@pytest.fixture
def answer_faults() -> Callable[[Exchange], list[Finding]]:
    """What a run finds wrong with an answer as a whole: the transport's faults, or the judge's
    verdict on the body as it travelled (any status expected: only the answer is looked at)."""
    def faults(exchange: Exchange) -> list[Finding]:
        found = Examiner().examine(exchange, expect(range(100, 600)),
                                   operation=pinned().manifest.primary, request=None, path={},
                                   source="t")
        return [f for f in found if f.rule in ANSWER_RULES]
    return faults
