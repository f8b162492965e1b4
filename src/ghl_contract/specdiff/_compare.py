"""Compares two resolved schemas of one value: one change, one finding, judged from the consumer's
side.

A change either lets fewer values through (it narrows), more (it widens), or neither (the two
cannot be compared). What that means for a client depends on who writes the value: a request
value is written by the client, so narrowing breaks it; a response value is read by the client,
so widening breaks it. The rule codes say the change (``length-widened``); the rule table
(`ghl_contract.rules`) says, for each side, whether it breaks a client and why.

The walk follows the payload: a pointer names a place in the value
(``/invoice/invoiceItems/*/amount``, ``*`` for every item of an array or every value of a map),
never a place in the schema file. Where a type changes outright (string to number, array to
object) the walk stops there: what lies below belongs to another kind of value, and listing it
would report one change many times.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

from ghl_contract.findings import Finding, pointer
from ghl_contract.openapi_source import CYCLE_KEY
from ghl_contract.rules import finding

Side = Literal["request", "response"]
Schema = Mapping[str, Any]
Steps = tuple[str, ...]  # a place in the value, as the keys and "*"s that lead to it

# Length-like bounds by family: (rule family, keyword of the lower bound, of the upper bound).
_COUNTS = (("length", "minLength", "maxLength"),
           ("items", "minItems", "maxItems"),
           ("property-count", "minProperties", "maxProperties"))
_ALTERNATIVES = ("oneOf", "anyOf")
# Constraints without a rule of their own: added narrows, removed widens, changed is incomparable.
# if/then/else is one constraint.
_OTHER = ("not", "contains", "minContains", "maxContains", "dependentRequired",
          "dependentSchemas", "patternProperties", "propertyNames", "prefixItems",
          "unevaluatedProperties", "unevaluatedItems", CYCLE_KEY)
_CONDITIONAL = ("if", "then", "else")
# A pattern that every string matches says nothing.
_ANY_PATTERN = frozenset({"", ".*", "^.*$", "^.*", ".*$"})


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _short(value: Any) -> str:
    """A value for a sentence: in full when short; `expected`/`actual` carry it whole."""
    text = _json(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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


def _pattern(schema: Schema) -> Any:
    value = schema.get("pattern")
    return None if value in _ANY_PATTERN else value


# --- bounds ---------------------------------------------------------------------------------

# A bound as (value, strict): strict for the exclusive forms. None is no bound.
Bound = tuple[float, bool] | None


def _bounds(schema: Schema, inclusive: str, exclusive: str) -> list[tuple[float, bool]]:
    return [(schema[key], strict) for key, strict in ((inclusive, False), (exclusive, True))
            if _is_number(schema.get(key))]


def _lower(schema: Schema) -> Bound:
    """The lower bound of a number: the tighter of minimum and exclusiveMinimum."""
    return max(_bounds(schema, "minimum", "exclusiveMinimum"), default=None)


def _upper(schema: Schema) -> Bound:
    """The upper bound of a number: the tighter of maximum and exclusiveMaximum."""
    return min(_bounds(schema, "maximum", "exclusiveMaximum"),
               key=lambda bound: (bound[0], not bound[1]), default=None)


def _lower_text(bound: Bound) -> str:
    if bound is None:
        return "no lower bound"
    return f"{'more than' if bound[1] else 'at least'} {_json(bound[0])}"


def _upper_text(bound: Bound) -> str:
    if bound is None:
        return "no upper bound"
    return f"{'less than' if bound[1] else 'at most'} {_json(bound[0])}"


def _lower_narrowed(old: Bound, new: Bound) -> bool:
    """Whether the new lower bound lets fewer values through than the old."""
    if new is None:
        return False
    return old is None or new[0] > old[0] or (new[0] == old[0] and new[1] and not old[1])


def _upper_narrowed(old: Bound, new: Bound) -> bool:
    if new is None:
        return False
    return old is None or new[0] < old[0] or (new[0] == old[0] and new[1] and not old[1])


def _multiple(of: Any, value: Any) -> bool:
    """Whether `value` is a whole multiple of `of` (exactly, decimals included)."""
    try:
        return (Fraction(str(value)) / Fraction(str(of))).denominator == 1
    except (ValueError, ZeroDivisionError):
        return False


# --- the walk -------------------------------------------------------------------------------


@dataclass
class SchemaDiff:
    """The findings between two schemas of one value.

    `side` says who writes the value (a request) or reads it (a response); `source` where it
    travels ("request", "response 200", "parameters"); `subject` how a sentence names its top
    level; `prefix` the pointer of that top level (a parameter's ``/parameters/header/Version``);
    `operation` the operation the findings belong to.
    """

    side: Side
    source: str
    subject: str = "The body"
    prefix: Steps = ()
    operation: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def emit(self, change: str, path: Steps, message: str, expected: Any, actual: Any) -> None:
        made = finding(f"{self.side}-{change}", pointer((*self.prefix, *path)), message,
                       expected, actual)
        self.findings.append(replace(made, source=self.source, operation=self.operation))

    def at(self, path: Steps) -> str:
        """How a sentence names the place `path`."""
        if not path:
            return self.subject
        place = pointer(path)
        return f"{place} of {self.subject[:1].lower()}{self.subject[1:]}" if self.prefix else place

    @property
    def _sends(self) -> bool:
        return self.side == "request"

    def compare(self, old: Schema, new: Schema, path: Steps = ()) -> None:
        if old == new:
            return
        old_types, new_types = _types(old), _types(new)
        if not self._type(old_types, new_types, path):
            return
        self._enum(old, new, path)
        self._const(old, new, path)
        self._format(old, new, path)
        self._pattern(old, new, path)
        self._range(old, new, path)
        for family, low, high in _COUNTS:
            self._counts(family, low, high, old, new, path)
        if _admits(old_types, "object") and _admits(new_types, "object"):
            self._object(old, new, path)
            self._additional(old, new, path)
        if _admits(old_types, "array") and _admits(new_types, "array"):
            self._array(old, new, path)
        for keyword in _ALTERNATIVES:
            self._alternatives(keyword, old.get(keyword), new.get(keyword), path)
        self._others(old, new, path)

    # -- types

    def _type(self, old: frozenset[str] | None, new: frozenset[str] | None, path: Steps) -> bool:
        """Report a change of JSON types; False when the value became another kind of value."""
        where = self.at(path)
        if old is not None and new is not None and ("null" in old) != ("null" in new):
            # null is reported on its own: "may now be null" reads better than a type list
            added = "null" in new
            if self._sends:
                text = "now accepts null" if added else "no longer accepts null"
            else:
                text = "may now be null" if added else "is no longer null"
            self.emit("nullable-added" if added else "nullable-removed", path,
                      f"{where} {text}.", type_text(old), type_text(new))
            old, new = old - {"null"}, new - {"null"}
            if not old or not new:
                return True
        change = type_change(old, new)
        if change is None:
            return True
        self.emit(f"type-{change}", path,
                  f"{where} changed type from {type_text(old)} to {type_text(new)}.",
                  type_text(old), type_text(new))
        return change != "changed"

    # -- values

    def _enum(self, old: Schema, new: Schema, path: Steps) -> None:
        before, after = old.get("enum"), new.get("enum")
        before = before if isinstance(before, list) else None
        after = after if isinstance(after, list) else None
        if before == after:
            return
        where = self.at(path)
        if before is None or after is None:
            if after is not None:
                self.emit("enum-added", path, f"{where} is now limited to {_short(after)}.",
                          "any value", after)
            else:
                self.emit("enum-removed", path,
                          f"{where} is no longer limited to {_short(before)}.",
                          before, "any value")
            return
        old_keys = {_canonical(value) for value in before}
        new_keys = {_canonical(value) for value in after}
        for value in after:
            if _canonical(value) not in old_keys:
                verb = "accepts" if self._sends else "may carry"
                self.emit("enum-value-added", path, f"{where} {verb} a new value {_json(value)}.",
                          before, after)
        for value in before:
            if _canonical(value) not in new_keys:
                verb = "accepts" if self._sends else "carries"
                self.emit("enum-value-removed", path,
                          f"{where} no longer {verb} the value {_json(value)}.", before, after)

    def _const(self, old: Schema, new: Schema, path: Steps) -> None:
        if "const" not in old and "const" not in new:
            return
        before, after = old.get("const"), new.get("const")
        if "const" in old and "const" in new and _canonical(before) == _canonical(after):
            return
        where = self.at(path)
        if "const" not in old:
            self.emit("const-added", path, f"{where} is now always {_short(after)}.",
                      "any value", after)
        elif "const" not in new:
            self.emit("const-removed", path, f"{where} is no longer always {_short(before)}.",
                      before, "any value")
        else:
            self.emit("const-changed", path,
                      f"{where} is now always {_short(after)} (it was {_short(before)}).",
                      before, after)

    def _format(self, old: Schema, new: Schema, path: Steps) -> None:
        self._added_removed_changed("format", old.get("format"), new.get("format"), path)

    def _pattern(self, old: Schema, new: Schema, path: Steps) -> None:
        self._added_removed_changed("pattern", _pattern(old), _pattern(new), path)

    def _added_removed_changed(self, keyword: str, before: Any, after: Any, path: Steps) -> None:
        if before == after:
            return
        where = self.at(path)
        if before is None:
            self.emit(f"{keyword}-added", path, f"{where} now has {keyword} {_short(after)}.",
                      "none", after)
        elif after is None:
            self.emit(f"{keyword}-removed", path,
                      f"{where} no longer has {keyword} {_short(before)}.", before, "none")
        else:
            self.emit(f"{keyword}-changed", path,
                      f"{where} now has {keyword} {_short(after)} (it had {_short(before)}).",
                      before, after)

    # -- bounds

    def _range(self, old: Schema, new: Schema, path: Steps) -> None:
        where = self.at(path)
        for bound, narrowed, text in ((_lower, _lower_narrowed, _lower_text),
                                      (_upper, _upper_narrowed, _upper_text)):
            before, after = bound(old), bound(new)
            if before == after:
                continue
            change = "range-narrowed" if narrowed(before, after) else "range-widened"
            self.emit(change, path, f"{where} went from {text(before)} to {text(after)}.",
                      text(before), text(after))
        before, after = old.get("multipleOf"), new.get("multipleOf")
        if before == after:
            return
        if before is None or (after is not None and _multiple(before, after)):
            change = "range-narrowed"
        elif after is None or _multiple(after, before):
            change = "range-widened"
        else:
            change = "range-changed"
        self.emit(change, path, f"{where} went from {self._multiple_text(before)} to "
                                f"{self._multiple_text(after)}.", before, after)

    @staticmethod
    def _multiple_text(value: Any) -> str:
        return "any multiple" if value is None else f"multiples of {_json(value)}"

    def _counts(self, family: str, low: str, high: str, old: Schema, new: Schema,
                path: Steps) -> None:
        where = self.at(path)
        for keyword, tighter in ((low, operator.gt), (high, operator.lt)):
            before, after = old.get(keyword), new.get(keyword)
            if before == after or not (_is_number(before) or _is_number(after)):
                continue
            narrowed = after is not None and (before is None or tighter(after, before))
            change = f"{family}-{'narrowed' if narrowed else 'widened'}"
            if before is None:
                text = f"{where} gained {keyword} {_json(after)}."
            elif after is None:
                text = f"{where} lost {keyword} {_json(before)}."
            else:
                text = f"{where} changed {keyword} from {_json(before)} to {_json(after)}."
            self.emit(change, path, text, before if before is not None else "none",
                      after if after is not None else "none")

    # -- objects

    def _object(self, old: Schema, new: Schema, path: Steps) -> None:
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
                self._removed(old_props[name], at_path, rejects_unknown,
                              name in old_required and name not in new_required)
            elif name in new_props and name not in old_props:
                if self._sends and name in new_required:
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

    def _removed(self, old: Any, path: Steps, rejects_unknown: bool, was_required: bool) -> None:
        where = self.at(path)
        required = " (it was required)" if was_required else ""
        if not self._sends:
            self.emit("property-removed", path, f"{where} is no longer declared{required}.",
                      _describe(old), "absent")
        elif rejects_unknown:
            self.emit("property-rejected", path,
                      f"{where} is no longer declared, and undeclared fields are now rejected.",
                      _describe(old), "absent")
        else:
            self.emit("property-removed", path,
                      f"{where} is no longer declared; undeclared fields are still accepted.",
                      _describe(old), "absent")

    def _additional(self, old: Schema, new: Schema, path: Steps) -> None:
        before = old.get("additionalProperties", True)
        after = new.get("additionalProperties", True)
        if before == after or (_is_open(before) and _is_open(after)):
            return
        if after is False:
            self.emit("additional-properties-closed", path,
                      f"{self.at(path)} no longer allows undeclared fields.", "allowed",
                      "rejected")
        elif before is False:
            self.emit("additional-properties-opened", path,
                      f"{self.at(path)} now allows undeclared fields.", "rejected", "allowed")
        else:
            self.compare(_as_schema(before), _as_schema(after), (*path, "*"))

    # -- arrays

    def _array(self, old: Schema, new: Schema, path: Steps) -> None:
        old_items, new_items = old.get("items", {}), new.get("items", {})
        if not isinstance(old_items, list) and not isinstance(new_items, list):
            self.compare(_as_schema(old_items), _as_schema(new_items), (*path, "*"))
        elif old_items != new_items:
            self._constraint("items", old_items, new_items, path)
        before, after = old.get("uniqueItems") is True, new.get("uniqueItems") is True
        if before != after:
            self.emit("items-narrowed" if after else "items-widened", path,
                      f"{self.at(path)} {'now' if after else 'no longer'} holds unique items "
                      "only.", before, after)

    # -- alternatives

    def _alternatives(self, keyword: str, before: Any, after: Any, path: Steps) -> None:
        """Branches are paired by shape; a branch left on each side is paired in order and
        compared at the same place, since it describes the same value."""
        if before == after:
            return
        if not isinstance(before, list) or not isinstance(after, list):
            self._constraint(keyword, before, after, path)
            return
        new_keys = [_canonical(branch) for branch in after]
        old_keys = [_canonical(branch) for branch in before]
        gone = [branch for branch, key in zip(before, old_keys, strict=True)
                if key not in new_keys]
        came = [branch for branch, key in zip(after, new_keys, strict=True)
                if key not in old_keys]
        for old_branch, new_branch in zip(gone, came, strict=False):
            self.compare(_as_schema(old_branch), _as_schema(new_branch), path)
        where = self.at(path)
        for branch in came[len(gone):]:
            verb = "accepts" if self._sends else "may carry"
            self.emit("branch-added", path,
                      f"{where} {verb} one more {keyword} shape: {_branch_text(branch)}.",
                      len(before), len(after))
        for branch in gone[len(came):]:
            verb = "accepts" if self._sends else "carries"
            self.emit("branch-removed", path,
                      f"{where} no longer {verb} the {keyword} shape {_branch_text(branch)}.",
                      len(before), len(after))

    # -- the rest

    def _others(self, old: Schema, new: Schema, path: Steps) -> None:
        for keyword in _OTHER:
            if old.get(keyword) != new.get(keyword):
                self._constraint(keyword, old.get(keyword), new.get(keyword), path)
        old_if = {key: old[key] for key in _CONDITIONAL if key in old}
        new_if = {key: new[key] for key in _CONDITIONAL if key in new}
        if old_if != new_if:
            self._constraint("if/then/else", old_if or None, new_if or None, path)

    def _constraint(self, keyword: str, before: Any, after: Any, path: Steps) -> None:
        where = self.at(path)
        if before is None:
            self.emit("constraint-added", path,
                      f"{where} gained the constraint {keyword}: {_short(after)}.", "absent",
                      after)
        elif after is None:
            self.emit("constraint-removed", path,
                      f"{where} lost the constraint {keyword}: {_short(before)}.", before,
                      "absent")
        else:
            self.emit("constraint-changed", path,
                      f"{where} changed its {keyword} constraint from {_short(before)} to "
                      f"{_short(after)}.", before, after)


def _properties(schema: Schema) -> Mapping[str, Any]:
    properties = schema.get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _is_open(value: Any) -> bool:
    return value is True or value == {}


def _branch_text(branch: Any) -> str:
    if not isinstance(branch, Mapping):
        return _short(branch)
    title = branch.get("title")
    kinds = type_text(_types(branch))
    names: Sequence[str] = list(_properties(branch))
    fields = f" with {', '.join(names[:4])}{', ...' if len(names) > 4 else ''}" if names else ""
    return f"{title} ({kinds}{fields})" if isinstance(title, str) else f"{kinds}{fields}"
