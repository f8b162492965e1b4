"""Every instance of a JSON Schema that admits only a few: enums, constants, booleans, optional
properties of a closed object.

A valid request to convert an estimate has six bodies per location (markAsInvoiced true or false,
version v1, v2 or left out): listing them beats drawing at random and throwing the duplicates
away. A schema with a keyword not understood here, or more instances than asked for, is not
listed (None): its values are drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

# Keywords that do not restrict instances.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples",
                          "default", "deprecated", "readOnly", "writeOnly"})
_TYPES: dict[str, tuple[Any, ...]] = {"boolean": (False, True), "null": (None,)}
_ABSENT = object()


def instances(schema: Any, limit: int) -> list[Any] | None:
    """Every instance of `schema`, or None when it has more than `limit` (or infinitely many)
    or says something this module does not read."""
    found = _instances(schema, limit)
    return None if found is None else list(found)


def _instances(schema: Any, limit: int) -> tuple[Any, ...] | None:
    if not isinstance(schema, Mapping) or not set(schema) - _ANNOTATIONS:
        return None  # true, false or {}: any value (or none)
    keywords = set(schema) - _ANNOTATIONS
    if keywords <= {"type", "enum", "const"} and keywords & {"enum", "const"}:
        values = (schema["const"],) if "const" in schema else tuple(schema["enum"])
        if "const" in schema and "enum" in schema and schema["const"] not in schema["enum"]:
            values = ()
        return tuple(v for v in values if _typed(v, schema.get("type")))
    if keywords == {"type"} and isinstance(schema["type"], str):
        return _TYPES.get(schema["type"])
    if schema.get("type") == "object" and schema.get("additionalProperties") is False and \
            keywords <= {"type", "properties", "required", "additionalProperties"}:
        return _objects(schema.get("properties", {}), set(schema.get("required", ())), limit)
    return None


def _objects(properties: Mapping[str, Any], required: set[str], limit: int
             ) -> tuple[dict[str, Any], ...] | None:
    if not required <= set(properties):
        return ()  # a required property that may not be there: no instance
    choices: list[tuple[Any, ...]] = []
    size = 1
    for name, subschema in properties.items():
        values = _instances(subschema, limit)
        if values is None:
            return None
        options = values if name in required else (_ABSENT, *values)
        size *= len(options)
        if size > limit:
            return None
        choices.append(options)
    names = list(properties)
    return tuple({name: value for name, value in zip(names, combination, strict=True)
                  if value is not _ABSENT} for combination in itertools.product(*choices))


def _typed(value: Any, declared: Any) -> bool:
    """Whether `value` is of the declared type (any, when none is declared)."""
    if declared is None:
        return True
    kinds = [declared] if isinstance(declared, str) else list(declared)
    checks = {"boolean": lambda v: isinstance(v, bool), "null": lambda v: v is None,
              "string": lambda v: isinstance(v, str), "object": lambda v: isinstance(v, dict),
              "array": lambda v: isinstance(v, list),
              "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
              "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
              or (isinstance(v, float) and v.is_integer())}
    return any(checks[kind](value) for kind in kinds if kind in checks)
