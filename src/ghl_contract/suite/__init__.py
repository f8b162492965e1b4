"""The contract suite's machinery: target, run context, examination of exchanges, plan, reports.

Test modules under ``contract_tests/`` use the `ghl` fixture (a `Probe`) of the pytest plugin;
they never check a response themselves.
"""

from __future__ import annotations

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
