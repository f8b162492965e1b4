"""The contract suite's machinery: target, run context, examination of exchanges, plan, reports.

Test modules under ``contract_tests/`` use the `ghl` fixture (a `Probe`) of the pytest plugin;
they never check a response themselves. Names are imported when first used: `ghl-contract run`
imports a few of the suite's modules (the helper that draws generated cases) before pytest starts,
without the rest (the transport, httpx, pytest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "CLIENT_ERROR",
    "FORBIDDEN",
    "INVARIANT_READS",
    "NOT_FOUND",
    "NOT_FOUND_OR_GONE",
    "REJECTED",
    "SUCCESS",
    "UNAUTHORIZED",
    "Expect",
    "Probe",
    "RunContext",
    "Seen",
    "expect",
]

_CONTEXT = ("INVARIANT_READS", "Probe", "RunContext", "Seen")

if TYPE_CHECKING:
    from ghl_contract.suite.context import INVARIANT_READS, Probe, RunContext, Seen
    from ghl_contract.suite.examine import (
        CLIENT_ERROR,
        FORBIDDEN,
        NOT_FOUND,
        NOT_FOUND_OR_GONE,
        REJECTED,
        SUCCESS,
        UNAUTHORIZED,
        Expect,
        expect,
    )


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'ghl_contract.suite' has no attribute {name!r}")
    import importlib

    module = "context" if name in _CONTEXT else "examine"
    return getattr(importlib.import_module(f"ghl_contract.suite.{module}"), name)
