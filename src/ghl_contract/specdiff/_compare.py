"""Compares two resolved body schemas: one change, one finding, judged from the consumer's side.

The walk follows the payload: a pointer names a place in the body
(``/invoice/invoiceItems/*/amount``, ``*`` for every item of an array or every value of a map),
never a place in the schema file. Where a type changes outright (string to number, array to
object) the walk stops there: what lies below belongs to another kind of value, and listing it
would report one change many times.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ghl_contract.findings import Finding, pointer
from ghl_contract.openapi_source import CYCLE_KEY
from ghl_contract.rules import severity

Side = Literal["request", "response"]
Schema = Mapping[str, Any]
Path = tuple[str, ...]

# Bounds: a larger maximum or a smaller minimum lets more values through.
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_ALTERNATIVES = ("oneOf", "anyOf")
# Compared as a whole: a difference is one finding naming the keyword. if/then/else is one rule.
_WHOLE = ("multipleOf", "pattern", "uniqueItems", "const", "not", "dependentRequired",
          "dependentSchemas", "patternProperties", "propertyNames", "contains", "prefixItems",
          "unevaluatedProperties", "unevaluatedItems", CYCLE_KEY)
_CONDITIONAL = ("if", "then", "else")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _short(value: Any) -> str:
    """A value for a sentence: in full when short; `expected`/`actual` carry it whole."""
    text = _json(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _types(schema: Schema) -> frozenset[str] | None:
    """The JSON types a schema admits; None when it says nothing (any type)."""
    kinds = schema.get("type")
    if kinds is None:
        return None
    return frozenset(kinds if isinstance(kinds, list) else [kinds])


def _covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    return all(kind in wide or (kind == "integer" and "number" in wide) for kind in narrow)


def type_change(old: frozenset[str] | None, new: frozenset[str] | None) -> str | None:
    """"narrowed", "widened", "changed" or None, from the old to the new set of types."""
    if old == new:
        return None
    if old is None:
        return "narrowed"
    if new is None or _covers(new, old):
        return "widened"
    if _covers(old, new):
        return "narrowed"
    return "changed"


def type_text(kinds: frozenset[str] | None) -> str:
    return "any type" if kinds is None else " or ".join(sorted(kinds))


def _admits(kinds: frozenset[str] | None, kind: str) -> bool:
    return kinds is None or kind in kinds


def _describe(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return "any value"
    return type_text(_types(schema))


def _as_schema(value: Any) -> Schema:
    """``true`` and a missing schema admit anything; ``false`` nothing."""
    if isinstance(value, Mapping):
        return value
    return {"not": {}} if value is False else {}


@dataclass
class SchemaDiff:
    """The findings between two schemas of one body (`source`: "request", "response 200"...)."""

    side: Side
    source: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def body(self) -> str:
        if self.side == "request":
            return "the request body"
        status = self.source.removeprefix("response ").strip()
        return f"the {status} response"

    def emit(self, change: str, path: Path, message: str, expected: Any, actual: Any) -> None:
        rule = f"{self.side}-{change}"
        self.findings.append(
            Finding(pointer(path), rule, severity(rule), message, expected, actual, self.source))

    def at(self, path: Path) -> str:
        return f"{pointer(path)} in {self.body}" if path else f"The top level of {self.body}"

    def compare(self, old: Schema, new: Schema, path: Path = ()) -> None:
        if old == new:
            return
        old_types, new_types = _types(old), _types(new)
        change = type_change(old_types, new_types)
        if change is not None:
            self.emit(f"type-{change}", path,
                      f"{self.at(path)} changed type from {type_text(old_types)} to "
                      f"{type_text(new_types)}.",
                      type_text(old_types), type_text(new_types))
            if change == "changed":
                return
        self._enum(old, new, path)
        self._format(old, new, path)
        if _admits(old_types, "object") and _admits(new_types, "object"):
            self._object(old, new, path)
            self._additional(old, new, path)
        if _admits(old_types, "array") and _admits(new_types, "array"):
            old_items, new_items = old.get("items", {}), new.get("items", {})
            if not isinstance(old_items, list) and not isinstance(new_items, list):
                self.compare(_as_schema(old_items), _as_schema(new_items), (*path, "*"))
            elif old_items != new_items:
                self._constraint("items", old_items, new_items, path)
        self._constraints(old, new, path)

    def _enum(self, old: Schema, new: Schema, path: Path) -> None:
        old_values, new_values = old.get("enum"), new.get("enum")
        if old_values == new_values:
            return
        if not isinstance(old_values, list) or not isinstance(new_values, list):
            self._constraint("enum", old_values, new_values, path)
            return
        old_keys = {_canonical(value) for value in old_values}
        new_keys = {_canonical(value) for value in new_values}
        for value in new_values:
            if _canonical(value) not in old_keys:
                self.emit("enum-value-added", path,
                          f"{self.at(path)} has a new value {_json(value)}.",
                          old_values, new_values)
        for value in old_values:
            if _canonical(value) not in new_keys:
                self.emit("enum-value-removed", path,
                          f"{self.at(path)} no longer has the value {_json(value)}.",
                          old_values, new_values)

    def _format(self, old: Schema, new: Schema, path: Path) -> None:
        old_format, new_format = old.get("format"), new.get("format")
        if old_format == new_format:
            return
        if new_format is None:
            self.emit("format-removed", path,
                      f"{self.at(path)} no longer has format {old_format}.", old_format, "none")
        else:
            was = f" (it had {old_format})" if old_format is not None else " (it had none)"
            self.emit("format-changed", path,
                      f"{self.at(path)} now has format {new_format}{was}.",
                      old_format or "none", new_format)

    def _object(self, old: Schema, new: Schema, path: Path) -> None:
        old_props = _properties(old)
        new_props = _properties(new)
        old_required = set(old.get("required") or ())
        new_required = set(new.get("required") or ())
        names = dict.fromkeys([*old_props, *new_props, *sorted(old_required | new_required)])
        rejects_unknown = new.get("additionalProperties") is False
        for name in names:
            at_path = (*path, name)
            where = self.at(at_path)
            if name in old_props and name not in new_props:
                self._removed(name, old_props[name], at_path, rejects_unknown)
            elif name in new_props and name not in old_props:
                if self.side == "request" and name in new_required:
                    self.emit("required-added", at_path, f"{where} is a new required field.",
                              "absent", "required")
                else:
                    self.emit("property-added", at_path, f"{where} is a new field.", "absent",
                              _describe(new_props[name]))
            else:
                if name in new_required and name not in old_required:
                    self.emit("required-added", at_path, f"{where} is now required.",
                              "optional", "required")
                elif name in old_required and name not in new_required:
                    self.emit("required-removed", at_path, f"{where} is no longer required.",
                              "required", "optional")
                if name in old_props:
                    self.compare(_as_schema(old_props[name]), _as_schema(new_props[name]),
                                 at_path)

    def _removed(self, name: str, old: Any, path: Path, rejects_unknown: bool) -> None:
        where = self.at(path)
        if self.side == "response":
            self.emit("property-removed", path, f"{where} is no longer declared.",
                      _describe(old), "absent")
        elif rejects_unknown:
            self.emit("property-rejected", path,
                      f"{where} is no longer declared, and undeclared fields are now rejected.",
                      _describe(old), "absent")
        else:
            self.emit("property-removed", path,
                      f"{where} is no longer declared; undeclared fields are still accepted.",
                      _describe(old), "absent")

    def _additional(self, old: Schema, new: Schema, path: Path) -> None:
        before = old.get("additionalProperties", True)
        after = new.get("additionalProperties", True)
        if before == after or (_is_open(before) and _is_open(after)):
            return
        if after is False:
            self.emit("additional-properties-closed", path,
                      f"{self.at(path)} no longer allows undeclared fields.", "allowed", "rejected")
        elif before is False:
            self.emit("additional-properties-opened", path,
                      f"{self.at(path)} now allows undeclared fields.", "rejected", "allowed")
        else:
            self.compare(_as_schema(before), _as_schema(after), (*path, "*"))

    def _constraints(self, old: Schema, new: Schema, path: Path) -> None:
        for keyword in (*_UPPER, *_LOWER, *_ALTERNATIVES, *_WHOLE):
            if old.get(keyword) != new.get(keyword):
                self._constraint(keyword, old.get(keyword), new.get(keyword), path)
        old_if = {key: old[key] for key in _CONDITIONAL if key in old}
        new_if = {key: new[key] for key in _CONDITIONAL if key in new}
        if old_if != new_if:
            self._constraint("if/then/else", old_if or None, new_if or None, path)

    def _constraint(self, keyword: str, before: Any, after: Any, path: Path) -> None:
        where = self.at(path)
        if before is None:
            self.emit("constraint-tightened", path,
                      f"{where} gained the constraint {keyword}: {_short(after)}.", "absent", after)
            return
        if after is None:
            self.emit("constraint-relaxed", path,
                      f"{where} lost the constraint {keyword}: {_short(before)}.", before, "absent")
            return
        change = {"looser": "constraint-relaxed", "tighter": "constraint-tightened"}.get(
            _direction(keyword, before, after) or "", "constraint-changed")
        self.emit(change, path,
                  f"{where} changed its {keyword} constraint from {_short(before)} to "
                  f"{_short(after)}.", before, after)


def _properties(schema: Schema) -> Mapping[str, Any]:
    properties = schema.get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _is_open(value: Any) -> bool:
    return value is True or value == {}


def _direction(keyword: str, before: Any, after: Any) -> str | None:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after))
    if numbers and keyword in _UPPER:
        return "looser" if after > before else "tighter"
    if numbers and keyword in _LOWER:
        return "looser" if after < before else "tighter"
    if keyword in _ALTERNATIVES and isinstance(before, list) and isinstance(after, list):
        old_keys, new_keys = _keys(before), _keys(after)
        if old_keys <= new_keys:
            return "looser"
        if new_keys <= old_keys:
            return "tighter"
    return None


def _keys(values: Iterable[Any]) -> set[str]:
    return {_canonical(value) for value in values}
