"""Checks one payload against the contract: schema findings first, then payload invariants."""

from __future__ import annotations

from typing import Any

from ghl_contract.findings import Finding
from ghl_contract.invariants import response_findings
from ghl_contract.registry import ContractRegistry, error_schema, kind_schema, pinned
from ghl_contract.schema_findings import schema_findings


def check_payload(payload: Any, kind: str = "response", *, source: str | None = None,
                  status: int | None = None,
                  registry: ContractRegistry | None = None) -> list[Finding]:
    """Every finding for one payload of `kind`; an error body is checked by its `status`."""
    registry = registry or pinned()
    name = error_schema(status) if kind == "error" and status else kind_schema(kind)
    findings = schema_findings(registry.validator(name, strict=True), payload, source)
    if kind == "response":
        findings.extend(response_findings(payload, source))
    return findings
