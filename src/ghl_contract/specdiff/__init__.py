"""Contract-to-contract diff: what changed between two contracts, operation by operation, and
whether it breaks a client that sends the requests and reads the responses.

Each side is an OpenAPI document (a vendor's file, or ``pinned``/a schemas directory assembled by
`ghl_contract.openapi_doc`; see `sources`). Operations are paired by method and route; for each,
parameters, security, the request body and every response are compared. Every change is one
`Finding` with the operation it belongs to, where it was seen, a pointer, a rule code from
`ghl_contract.rules` and the severity that rule carries.
"""

from __future__ import annotations

from ghl_contract.findings import Finding
from ghl_contract.openapi_source import Schema
from ghl_contract.rules import RULES
from ghl_contract.specdiff._compare import SchemaDiff, Side
from ghl_contract.specdiff._documents import FAIL_ON, SpecDiff, diff_documents
from ghl_contract.specdiff._operation import OperationDiff, diff_operations
from ghl_contract.specdiff.sources import (
    PINNED,
    Source,
    contract_document,
    contract_operation,
    load_source,
)

__all__ = [
    "FAIL_ON",
    "PINNED",
    "RULE_CODES",
    "OperationDiff",
    "Source",
    "SpecDiff",
    "contract_document",
    "contract_operation",
    "diff_documents",
    "diff_operations",
    "diff_schemas",
    "load_source",
]

# Every code the diff can report: the diff section of the rule table.
RULE_CODES = tuple(code for code in RULES
                   if code.startswith(("request-", "response-", "operation-")))


def diff_schemas(old: Schema, new: Schema, side: Side, source: str | None = None) -> list[Finding]:
    """The findings between two resolved schemas of one body; `side` says who writes it."""
    diff = SchemaDiff(side, source or side)
    diff.compare(old, new)
    return diff.findings
