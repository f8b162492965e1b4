"""Compares one operation between two contracts: its parameters, security, request body and
responses, each change one finding that names the operation.

Where each finding lands (`Finding.source`, then `Finding.pointer`):

- ``operation``: the operation itself, added, removed or renamed (pointer ``""``);
- ``parameters``: ``/parameters/{in}/{name}``, deeper for an object's field
  (``/parameters/header/Version``, ``/parameters/query/altId``);
- ``security``: ``/security/{scheme}`` (``/security`` for "no credentials");
- ``request``: a place in the request body (``/items/*/amount``);
- ``response 200``, ``response 422``...: a place in that response's body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ghl_contract.findings import Finding, pointer
from ghl_contract.openapi_source import Operation, Parameter, Requirement
from ghl_contract.rules import finding
from ghl_contract.specdiff._compare import SchemaDiff, Side, Steps

Change = Literal["changed", "unchanged", "added", "removed"]

_PATH_NAME = re.compile(r"\{([^}]*)\}")


@dataclass
class OperationDiff:
    """What changed in one operation from the old contract to the new one."""

    operation: str  # its operationId, "METHOD /path" when it has none
    title: str  # "METHOD /path"
    change: Change
    findings: list[Finding] = field(default_factory=list)
    compared: list[str] = field(default_factory=list)  # the parts found on both sides

    @property
    def breaking(self) -> list[Finding]:
        return [f for f in self.findings if f.breaking]

    @property
    def non_breaking(self) -> list[Finding]:
        return [f for f in self.findings if not f.breaking]


def _status_order(status: str) -> tuple[int, str]:
    return (int(status), status) if status.isdigit() else (1000, status)


class _Findings:
    """Makes the findings of one operation: each one names it and where it was seen."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.found: list[Finding] = []

    def add(self, rule: str, source: str, at: str, message: str, expected: Any,
            actual: Any) -> None:
        self.found.append(replace(finding(rule, at, message, expected, actual), source=source,
                                  operation=self.operation))

    def schemas(self, old: Mapping[str, Any], new: Mapping[str, Any], side: Side, source: str,
                subject: str = "The body", prefix: Steps = ()) -> None:
        diff = SchemaDiff(side, source, subject, prefix, self.operation)
        diff.compare(old, new)
        self.found.extend(diff.findings)


def diff_operations(old: Operation, new: Operation) -> OperationDiff:
    """Every change to one operation's parameters, security, request and responses."""
    out = _Findings(new.operation_id)
    compared: list[str] = []
    if old.declared_id != new.declared_id:
        out.add("operation-id-changed", "operation", "",
                f"The operationId of {new.title} changed from {old.declared_id or 'none'} to "
                f"{new.declared_id or 'none'}.", old.declared_id, new.declared_id)
    if old.parameters or new.parameters:
        _parameters(old, new, out)
        compared.append("parameters")
    _security(old, new, out)
    compared.append("security")
    if _request(old, new, out):
        compared.append("request")
    compared.extend(_responses(old, new, out))
    return OperationDiff(new.operation_id, new.title, "changed" if out.found else "unchanged",
                         out.found, compared)


def added_or_removed(operation: Operation, change: Literal["added", "removed"]) -> OperationDiff:
    """An operation on one side only: one finding."""
    out = _Findings(operation.operation_id)
    if change == "added":
        out.add("operation-added", "operation", "", f"{operation.title} is a new operation.",
                "absent", "documented")
    else:
        out.add("operation-removed", "operation", "",
                f"{operation.title} is no longer documented.", "documented", "absent")
    return OperationDiff(operation.operation_id, operation.title, change, out.found)


# --- parameters -----------------------------------------------------------------------------

def _subject(parameter: Parameter) -> str:
    if parameter.location in ("header", "cookie"):
        return f"The {parameter.location} {parameter.name}"
    return f"The {parameter.location} parameter {parameter.name}"


def _renamed(old: Operation, new: Operation) -> dict[str, str]:
    """Old path-parameter names by their new ones: the same route may name them differently."""
    old_names, new_names = _PATH_NAME.findall(old.route), _PATH_NAME.findall(new.route)
    if len(old_names) != len(new_names):
        return {}
    return dict(zip(old_names, new_names, strict=True))


def _parameters(old: Operation, new: Operation, out: _Findings) -> None:
    renamed = _renamed(old, new)
    before = {_key(p, renamed): p for p in old.parameters}
    after = {_key(p, {}): p for p in new.parameters}
    for key in dict.fromkeys([*before, *after]):
        was, now = before.get(key), after.get(key)
        if now is None:
            if was is not None:
                out.add("request-parameter-removed", "parameters", _at(was),
                        f"{_subject(was)} is no longer documented.",
                        "required" if was.required else "optional", "absent")
        elif was is None:
            if now.required:
                out.add("request-parameter-required-added", "parameters", _at(now),
                        f"{_subject(now)} is new and required.", "absent", "required")
            else:
                out.add("request-parameter-added", "parameters", _at(now),
                        f"{_subject(now)} is new.", "absent", "optional")
        else:
            _parameter(was, now, out)


def _parameter(was: Parameter, now: Parameter, out: _Findings) -> None:
    at, subject = _at(now), _subject(now)
    if now.required and not was.required:
        out.add("request-parameter-required-added", "parameters", at,
                f"{subject} is now required.", "optional", "required")
    elif was.required and not now.required:
        out.add("request-parameter-required-removed", "parameters", at,
                f"{subject} is no longer required.", "required", "optional")
    out.schemas(was.schema, now.schema, side="request", source="parameters",
                subject=subject, prefix=("parameters", now.location, now.name))


def _at(parameter: Parameter) -> str:
    return pointer(("parameters", parameter.location, parameter.name))


def _key(parameter: Parameter, renamed: Mapping[str, str]) -> tuple[str, str]:
    if parameter.location == "path":
        return ("path", renamed.get(parameter.name, parameter.name))
    return parameter.key


# --- security -------------------------------------------------------------------------------

def _names(requirement: Requirement) -> frozenset[str]:
    return frozenset(requirement)


def _shapes(requirement: Requirement, schemes: Mapping[str, str]) -> frozenset[str]:
    return frozenset(schemes.get(name, name) for name in requirement)


def _pairs(old: Operation, new: Operation
           ) -> Iterator[tuple[Requirement | None, Requirement | None]]:
    """Old and new ways to authenticate, paired by scheme names, else by what the schemes ask
    for (a scheme renamed, or the pinned contract's ``bearer`` and the vendor's
    ``Location-Access``); None where one side has no counterpart."""
    left = list(old.security)
    right = list(new.security)
    for requirement in list(right):
        match = next((r for r in left if _names(r) == _names(requirement)), None)
        if match is not None:
            left.remove(match)
            right.remove(requirement)
            yield match, requirement
    for requirement in list(right):
        shape = _shapes(requirement, new.schemes)
        match = next((r for r in left if _shapes(r, old.schemes) == shape), None)
        if match is not None:
            left.remove(match)
            right.remove(requirement)
            yield match, requirement
    for requirement in left:
        yield requirement, None
    for requirement in right:
        yield None, requirement


def _security_at(requirement: Requirement) -> str:
    return pointer(("security", "+".join(sorted(requirement)))) if requirement else "/security"


def _way(requirement: Requirement) -> str:
    if not requirement:
        return "A request without credentials"
    return "A request authenticated with " + " and ".join(sorted(requirement))


def _security(old: Operation, new: Operation, out: _Findings) -> None:
    # Where requests without credentials are served, no credentials can be refused.
    anyone = any(not requirement for requirement in new.security)
    for was, now in _pairs(old, new):
        if was is None and now is not None:
            out.add("request-security-added", "security", _security_at(now),
                    f"{_way(now)} is accepted too.", "absent", _scopes(now))
        elif now is None and was is not None and not anyone:
            out.add("request-security-removed", "security", _security_at(was),
                    f"{_way(was)} is no longer accepted.", _scopes(was), "absent")
        elif was is not None and now is not None:
            _scope_changes(was, now, old.schemes, new.schemes, out)


def _scopes(requirement: Requirement) -> dict[str, list[str]]:
    return {name: list(scopes) for name, scopes in sorted(requirement.items())}


def _scope_changes(was: Requirement, now: Requirement, old_schemes: Mapping[str, str],
                   new_schemes: Mapping[str, str], out: _Findings) -> None:
    for name, scopes in now.items():
        counterpart = name if name in was else next(
            (other for other in was if old_schemes.get(other) == new_schemes.get(name)), None)
        before = set(was.get(counterpart, ())) if counterpart is not None else set()
        at = pointer(("security", name))
        for scope in scopes:
            if scope not in before:
                out.add("request-security-scope-added", "security", at,
                        f"{name} now needs the scope {scope}.", sorted(before), list(scopes))
        for scope in sorted(before - set(scopes)):
            out.add("request-security-scope-removed", "security", at,
                    f"{name} no longer needs the scope {scope}.", sorted(before), list(scopes))


# --- bodies ---------------------------------------------------------------------------------

def _request(old: Operation, new: Operation, out: _Findings) -> bool:
    """Compare the request bodies; True when both sides have one."""
    if old.request is not None and new.request is not None:
        if new.request_required and not old.request_required:
            out.add("request-body-required-added", "request", "",
                    "The request body is now required.", "optional", "required")
        elif old.request_required and not new.request_required:
            out.add("request-body-required-removed", "request", "",
                    "The request body is no longer required.", "required", "optional")
        out.schemas(old.request, new.request, side="request", source="request")
        return True
    if new.request is not None:
        if new.request_required:
            out.add("request-body-added", "request", "", "The operation now requires a request "
                    "body.", "absent", "required")
        else:
            out.add("request-body-added-optional", "request", "",
                    "The operation now takes an optional request body.", "absent", "optional")
    elif old.request is not None:
        out.add("request-body-removed", "request", "",
                "The request body is no longer documented.", "documented", "absent")
    return False


def _responses(old: Operation, new: Operation, out: _Findings) -> list[str]:
    """Compare the documented statuses and their bodies; the sources compared."""
    compared: list[str] = []
    old_statuses = set(old.statuses) | set(old.responses)
    new_statuses = set(new.statuses) | set(new.responses)
    for status in sorted(old_statuses | new_statuses, key=_status_order):
        source = f"response {status}"
        before, after = old.responses.get(status), new.responses.get(status)
        if status not in old_statuses:
            out.add("response-status-added", source, "",
                    f"The {status} response is newly documented.", "absent", "documented")
        elif status not in new_statuses:
            rule = ("response-success-removed" if status.startswith("2")
                    else "response-error-removed")
            out.add(rule, source, "", f"The {status} response is no longer documented.",
                    "documented", "absent")
        elif before is not None and after is not None:
            out.schemas(before, after, side="response", source=source)
            compared.append(source)
        elif after is not None:
            out.add("response-body-added", source, "",
                    f"The {status} response now has a JSON body.", "absent", "documented")
        elif before is not None:
            out.add("response-body-removed", source, "",
                    f"The {status} response no longer has a JSON body.", "documented", "absent")
    return compared
