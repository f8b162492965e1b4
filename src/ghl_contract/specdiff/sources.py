"""Turns a contract named on the command line into an OpenAPI document: one way for every kind.

``pinned`` and a directory of this project's schemas are assembled by `ghl_contract.openapi_doc`
(the document ``ghl-contract openapi`` prints, every operation of the contract's manifest) and then
read exactly like a vendor's file; a file is read as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ghl_contract import openapi_doc
from ghl_contract.errors import UsageError
from ghl_contract.openapi_source import (
    OpenAPIDocument,
    Operation,
    load_document,
)
from ghl_contract.registry import ContractRegistry, pinned

PINNED = "pinned"


@dataclass(frozen=True)
class Source:
    """A side of a diff: its document, and whether it is one of this project's contracts."""

    document: OpenAPIDocument
    contract: bool


def contract_document(registry: ContractRegistry, label: str | None = None) -> OpenAPIDocument:
    """The contract as the OpenAPI document `ghl-contract openapi` prints, held in memory."""
    # It names a file in the contract's directory that need not exist: its references are all
    # local, so nothing is read from there.
    return OpenAPIDocument(registry.directory / "openapi.json", openapi_doc.build(registry),
                           label=label or str(registry.directory))


def load_source(spec: str, refs: Mapping[str, Path] | None = None) -> Source:
    """`spec` is ``pinned``, a directory of this project's schemas, or an OpenAPI document."""
    if spec == PINNED:
        return Source(contract_document(pinned(), "the pinned contract"), contract=True)
    path = Path(spec)
    if path.is_dir():
        return Source(contract_document(ContractRegistry.load(path)), contract=True)
    if not path.exists():
        raise UsageError(f"{spec} does not exist (a contract is '{PINNED}', a schemas directory "
                         "or an OpenAPI file).")
    return Source(load_document(path, refs), contract=False)


def contract_operation(registry: ContractRegistry, operation_id: str | None = None,
                       label: str | None = None) -> Operation:
    """One operation of a contract (default: its manifest's primary one), read from its
    assembled document like any other."""
    operation_id = operation_id or registry.manifest.primary.id
    document = contract_document(registry, label)
    if not document.select(operation_id):
        described = ", ".join(document.operation_ids())
        raise UsageError(f"{document.name[:1].upper()}{document.name[1:]} describes only "
                         f"{described}, not {operation_id!r}.")
    return document.operation(operation_id)

