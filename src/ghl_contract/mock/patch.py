"""JSON-Patch-like edits at JSON pointers: how drift profiles and the observed profile are written.

Three operations, as data: ``{"op": "add", "path": P, "value": V}`` sets the member or item at P
(``-`` appends to an array), ``{"op": "remove", "path": P}`` removes it, and
``{"op": "transform", "path": P, "transform": NAME, "value": ARG}`` replaces the value at P with
what the named transform makes of it (the transforms are the caller's table). Edits never touch
the document they are given: `apply` works on its own copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

# A named transform: (the old value, the edit's argument) -> the new value.
Transform = Callable[[Any, Any], Any]
OPERATIONS = ("add", "remove", "transform")


class Unreachable(LookupError):
    """An edit's path leads nowhere in this document (its parent is absent or not a container)."""


@dataclass(frozen=True)
class Edit:
    """One edit at one JSON pointer."""

    op: str
    path: str
    value: Any = None
    transform: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Edit:
        return cls(data["op"], data["path"], data.get("value"), data.get("transform"))


def parts(pointer: str) -> list[str]:
    """The reference tokens of an RFC 6901 pointer ("" is the whole document)."""
    if not pointer:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _child(container: Any, token: str) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise Unreachable(token)
        return container[token]
    if isinstance(container, list) and token.isdigit() and int(token) < len(container):
        return container[int(token)]
    raise Unreachable(token)


def _edit(document: Any, edit: Edit, transforms: Mapping[str, Transform]) -> Any:
    tokens = parts(edit.path)
    if not tokens:  # the whole document
        if edit.op == "transform":
            return transforms[edit.transform or ""](document, edit.value)
        if edit.op == "add":
            return _copy(edit.value)
        raise Unreachable("")
    parent = document
    for token in tokens[:-1]:
        parent = _child(parent, token)
    key = tokens[-1]
    if edit.op == "add":
        _set(parent, key, _copy(edit.value), append=True)
    elif edit.op == "remove":
        _child(parent, key)
        if isinstance(parent, dict):
            del parent[key]
        else:
            del parent[int(key)]
    else:
        _set(parent, key, transforms[edit.transform or ""](_child(parent, key), edit.value),
             append=False)
    return document


def _set(parent: Any, key: str, value: Any, *, append: bool) -> None:
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list) and append and key == "-":
        parent.append(value)
    elif isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        parent[int(key)] = value
    else:
        raise Unreachable(key)


def _copy(value: Any) -> Any:
    # orjson round trip: a deep copy at a tenth of copy.deepcopy's cost, JSON values only
    return orjson.loads(orjson.dumps(value))


def apply(document: Any, edits: Iterable[Edit],
          transforms: Mapping[str, Transform] | None = None) -> Any:
    """A copy of `document` with `edits` made in order; Unreachable when one's path leads
    nowhere (then `document` is left as it was, as always)."""
    result = _copy(document)
    for edit in edits:
        result = _edit(result, edit, transforms or {})
    return result


def check(edits: Sequence[Edit], transforms: Mapping[str, Transform]) -> str | None:
    """Why `edits` cannot be carried out whatever the document (an unknown op or transform)."""
    for edit in edits:
        if edit.op not in OPERATIONS:
            return f"the operation {edit.op!r} is not one of {', '.join(OPERATIONS)}"
        if edit.op == "transform" and edit.transform not in transforms:
            return f"the transform {edit.transform!r} is not one of {', '.join(transforms)}"
        if edit.path and not edit.path.startswith("/"):
            return f"the path {edit.path!r} is not a JSON pointer"
    return None
