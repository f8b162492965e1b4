"""Compares two whole documents: their operations paired by method and route, each compared.

An operation is the same on both sides when its method and path template are: the path's
parameter names do not count (``/things/{id}`` is ``/things/{thingId}``), nor does its
operationId (the vendor's files have reused one id for three routes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding, Report
from ghl_contract.openapi_source import OpenAPIDocument, RawOperation, unknown_operation
from ghl_contract.specdiff._operation import OperationDiff, added_or_removed, diff_operations

FAIL_ON = ("breaking", "non-breaking", "never")

_PATH_NAME = re.compile(r"\{[^}]*\}")

Key = tuple[str, str]  # (METHOD, path template without parameter names)


@dataclass
class SpecDiff:
    """Every compared operation of two documents, in the order the documents list them."""

    old: str  # how each side is named: a path, "the pinned contract"
    new: str
    operations: list[OperationDiff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [finding for operation in self.operations for finding in operation.findings]

    @property
    def checked(self) -> int:
        return sum(len(operation.compared) for operation in self.operations)

    def report(self) -> Report:
        """Every finding as one flat report (the shape `lint-vendor` and other readers take)."""
        return Report(findings=self.findings, checked=self.checked, notes=list(self.notes))

    def exit_code(self, fail_on: str = "breaking") -> int:
        """1 when a finding of the `fail_on` severity (or worse) is there, else 0."""
        if fail_on == "never":
            return 0
        findings = self.findings
        if fail_on == "non-breaking":
            return 1 if findings else 0
        return 1 if any(f.breaking for f in findings) else 0


def _key(raw: RawOperation) -> Key:
    return (raw.method.upper(), _PATH_NAME.sub("{}", raw.route))


def _selected(document: OpenAPIDocument, selectors: Sequence[str]) -> dict[Key, RawOperation]:
    """The operations of `document`, all or those the selectors name, by key."""
    everything = {_key(raw): raw for raw in document.operations()}
    if not selectors:
        return everything
    chosen: dict[Key, RawOperation] = {}
    for selector in selectors:
        matches = document.select(selector)
        if len(matches) > 1:
            where = ", ".join(raw.title for raw in matches)
            raise UsageError(f"The operation id {selector!r} names {len(matches)} operations in "
                             f"{document.name} ({where}); name one as --operation "
                             "'METHOD /path'.")
        chosen.update((_key(raw), raw) for raw in matches)
    return chosen


def diff_documents(old: OpenAPIDocument, new: OpenAPIDocument, selectors: Sequence[str] = (),
                   only: Iterable[OpenAPIDocument] = ()) -> SpecDiff:
    """Compare the operations of two documents: those `selectors` name (operationIds or
    ``METHOD /path``), else all of them; with `only` (the contracts among the two), only the
    operations those describe, the others listed in a note."""
    before, after = _selected(old, selectors), _selected(new, selectors)
    for selector in selectors:
        if not old.select(selector) and not new.select(selector):
            known = sorted({*old.operation_ids(), *new.operation_ids()})
            where = old.name if old.name == new.name else f"{old.name} or {new.name}"
            raise UsageError(unknown_operation(selector, known, where))
    result = SpecDiff(old.name, new.name)
    keys = list(dict.fromkeys([*before, *after]))
    limits = list(only)
    if limits and not selectors:
        described = {_key(raw) for document in limits for raw in document.operations()}
        skipped = [key for key in keys if key not in described]
        keys = [key for key in keys if key in described]
        if skipped:
            names = [(after.get(key) or before[key]) for key in skipped]
            shown = ", ".join(raw.operation_id or raw.title for raw in names[:5])
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            contracts = " and ".join(document.name for document in limits)
            result.notes.append(f"Not compared: {len(names)} operations that {contracts} "
                                f"does not describe ({shown}{more}).")
    for key in keys:
        was, now = before.get(key), after.get(key)
        if was is not None and now is not None:
            result.operations.append(diff_operations(old.resolve(was), new.resolve(now)))
        elif now is not None:
            result.operations.append(added_or_removed(new.resolve(now), "added"))
        elif was is not None:
            result.operations.append(added_or_removed(old.resolve(was), "removed"))
    return result
