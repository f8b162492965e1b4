"""Contract tests and drift reports for HighLevel's estimate-to-invoice API (LeadConnector).

The public Python API, for scripts around the command line (documented in the README):

- `check_payload(payload, kind="response", *, operation=None, status=None)` and
  `check_body(body, kind="response", *, operation=None, status=None, content_type=None, ...)`:
  the findings of one payload, or of one body as it travelled, exactly as `ghl-contract check`
  and a run judge them;
- `run(argv, stdout, stderr) -> int`: the `ghl-contract` command itself (`run(["run",
  "--report-dir", "reports"], sys.stdout, sys.stderr)`), with its exit codes;
- `Finding`, `Report`, `Severity`: the findings model; `pinned()`: the packaged contract
  (`pinned().manifest` its operations).

Everything else is internal and may change between versions. Names are imported when first
used, so `import ghl_contract` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Finding", "Report", "Severity", "check_body", "check_payload", "pinned", "run"]

_PUBLIC = {
    "check_payload": "ghl_contract.judge",
    "check_body": "ghl_contract.judge",
    "run": "ghl_contract.cli",
    "Finding": "ghl_contract.findings",
    "Report": "ghl_contract.findings",
    "Severity": "ghl_contract.findings",
    "pinned": "ghl_contract.registry",
}

if TYPE_CHECKING:
    from ghl_contract.cli import run
    from ghl_contract.findings import Finding, Report, Severity
    from ghl_contract.judge import check_body, check_payload
    from ghl_contract.registry import pinned


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'ghl_contract' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
