"""The edits profiles are written in: each at its JSON pointer, on a copy, or Unreachable."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ghl_contract.mock.patch import Edit, Unreachable, apply, check

DOCUMENT = {"a": {"b": [1, 2], "c~d": 3, "e/f": 4}, "n": 5}
TRANSFORMS = {"double": lambda value, _: value * 2, "plus": lambda value, by: value + by}

CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("add-member", {"op": "add", "path": "/a/x", "value": 1},
     {"a": {"b": [1, 2], "c~d": 3, "e/f": 4, "x": 1}, "n": 5}),
    ("add-replaces", {"op": "add", "path": "/n", "value": None},
     {"a": {"b": [1, 2], "c~d": 3, "e/f": 4}, "n": None}),
    ("add-appends", {"op": "add", "path": "/a/b/-", "value": 3},
     {"a": {"b": [1, 2, 3], "c~d": 3, "e/f": 4}, "n": 5}),
    ("add-item", {"op": "add", "path": "/a/b/0", "value": 9},
     {"a": {"b": [9, 2], "c~d": 3, "e/f": 4}, "n": 5}),
    ("remove-escaped", {"op": "remove", "path": "/a/c~0d"},
     {"a": {"b": [1, 2], "e/f": 4}, "n": 5}),
    ("remove-slash", {"op": "remove", "path": "/a/e~1f"},
     {"a": {"b": [1, 2], "c~d": 3}, "n": 5}),
    ("remove-item", {"op": "remove", "path": "/a/b/1"},
     {"a": {"b": [1], "c~d": 3, "e/f": 4}, "n": 5}),
    ("transform", {"op": "transform", "path": "/n", "transform": "double"},
     {"a": {"b": [1, 2], "c~d": 3, "e/f": 4}, "n": 10}),
    ("transform-argument", {"op": "transform", "path": "/a/b/1", "transform": "plus", "value": 5},
     {"a": {"b": [1, 7], "c~d": 3, "e/f": 4}, "n": 5}),
    ("replace-whole", {"op": "add", "path": "", "value": [1]}, [1]),
]


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in CASES],
                         ids=[name for name, _, _ in CASES])
def test_an_edit_changes_a_copy_at_its_pointer(edit: dict[str, Any], expected: Any) -> None:
    before = copy.deepcopy(DOCUMENT)
    assert apply(DOCUMENT, [Edit.of(edit)], TRANSFORMS) == expected
    assert before == DOCUMENT


@pytest.mark.parametrize("edit", [
    {"op": "add", "path": "/missing/x", "value": 1},
    {"op": "remove", "path": "/missing"},
    {"op": "remove", "path": "/a/b/7"},
    {"op": "add", "path": "/a/b/x", "value": 1},
    {"op": "transform", "path": "/n/deeper", "transform": "double"},
    {"op": "remove", "path": ""},
], ids=["add-under-absent", "remove-absent", "remove-past-the-end", "add-at-a-name-of-an-array",
        "under-a-number", "remove-everything"])
def test_an_edit_that_leads_nowhere_is_unreachable(edit: dict[str, Any]) -> None:
    with pytest.raises(Unreachable):
        apply(DOCUMENT, [Edit.of(edit)], TRANSFORMS)


def test_edits_that_cannot_work_anywhere_are_named() -> None:
    assert check([Edit("add", "/x", 1)], TRANSFORMS) is None
    assert check([Edit("move", "/x")], TRANSFORMS) == \
        "the operation 'move' is not one of add, remove, transform"
    assert check([Edit("transform", "/x", transform="triple")], TRANSFORMS) == \
        "the transform 'triple' is not one of double, plus"
    assert check([Edit("remove", "x")], TRANSFORMS) == "the path 'x' is not a JSON pointer"
