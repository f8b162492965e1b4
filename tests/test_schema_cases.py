"""The schema cases in tests/schema_cases/: each is valid or fails for exactly its stated reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ghl_contract.findings import pointer
from ghl_contract.registry import pinned

CASES_DIR = Path(__file__).resolve().parent / "schema_cases"
CASES_SCHEMA = CASES_DIR / "cases.schema.json"
CASE_FILES = sorted(path for path in CASES_DIR.glob("*.json") if path != CASES_SCHEMA)

# The issue asks for at least this many cases, covering each of these rules.
MINIMUM_CASES = 60
RULES = ("required", "type", "enum", "format", "null", "array-for-object", "object-for-array",
         "additionalProperties")


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def keyword(kind: object) -> str:
    """The JSON Schema keyword of a jsonschema-rs error kind: its class name in camelCase."""
    name = type(kind).__name__
    return "const" if name == "Constant" else name[:1].lower() + name[1:]


@dataclass(frozen=True)
class Case:
    file: str
    schema: str
    strict: bool
    description: str
    data: Any
    valid: bool
    error: tuple[str, str] | None  # (keyword, instance pointer) of an invalid case

    @property
    def id(self) -> str:
        return f"{self.file}/{'strict/' if self.strict else ''}{self.description}"


def _cases() -> list[Case]:
    cases = []
    for path in CASE_FILES:
        for group in _read(path):
            for test in group["tests"]:
                error = test.get("error")
                cases.append(Case(
                    path.stem, group["schema"], group.get("profile") == "strict",
                    test["description"], test["data"], test["valid"],
                    (error["keyword"], error["pointer"]) if error else None))
    return cases


CASES = _cases()


def _errors(case: Case) -> Iterator[Any]:
    yield from pinned().validator(case.schema, strict=case.strict).iter_errors(case.data)


def _at(data: Any, where: str) -> Any:
    """The value at an RFC 6901 pointer of `data`; KeyError or IndexError if there is none."""
    for token in where.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        data = data[int(token)] if isinstance(data, list) else data[token]
    return data


def test_case_files_are_found() -> None:
    assert CASE_FILES, f"No case file in {CASES_DIR}."


def test_cases_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(_read(CASES_SCHEMA))


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.name)
def test_case_file_follows_the_cases_schema(path: Path) -> None:
    validator = Draft202012Validator(_read(CASES_SCHEMA))
    problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(_read(path))]
    assert problems == []


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_case(case: Case) -> None:
    found = {(keyword(error.kind), pointer(error.instance_path)) for error in _errors(case)}
    if case.valid:
        assert found == set()
    else:
        # Exactly the stated error: one change to a payload makes one error, at its own place.
        assert found == {case.error}


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= MINIMUM_CASES


def _rules(case: Case) -> set[str]:
    """The rules an invalid case exercises: its keyword, and for a type error what was sent."""
    assert case.error is not None
    rules = {case.error[0]}
    for error in _errors(case):
        if keyword(error.kind) != "type":
            continue
        sent, wanted = error.instance, error.kind.types
        if sent is None:
            rules.add("null")
        elif isinstance(sent, list) and "object" in wanted:
            rules.add("array-for-object")
        elif isinstance(sent, dict) and "array" in wanted:
            rules.add("object-for-array")
    return rules


def test_cases_cover_every_rule() -> None:
    covered = set().union(*(_rules(case) for case in CASES if not case.valid))
    assert sorted(set(RULES) - covered) == []


def test_invalid_cases_point_into_their_data() -> None:
    unresolved = []
    for case in CASES:
        if case.error is None:
            continue
        try:
            _at(case.data, case.error[1])
        except (KeyError, IndexError, TypeError):
            unresolved.append(case.id)
    assert unresolved == []


@pytest.mark.parametrize("name", sorted(pinned().documents))
def test_every_schema_has_valid_and_invalid_cases(name: str) -> None:
    outcomes = {case.valid for case in CASES if case.schema.partition("#")[0] == name}
    assert outcomes == {True, False}
