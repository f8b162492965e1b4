"""Fixtures shared by the project's own tests: paths to data, documented payloads, a clean env."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.resources import example_path

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
