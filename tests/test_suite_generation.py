"""Generated cases: valid bodies listed where they are few, drawing by seed, distinct cases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import strategies as st

from ghl_contract.registry import pinned
from ghl_contract.suite import drawing, finite
from ghl_contract.suite.generation import aimed_request, invalid_cases, valid_cases

LOCATION = "loc-1"
VALID = pinned().validator("request.json")


def _key(case: Any) -> tuple[str, str | bytes]:
    body = case.body
    return case.estimate_id, body if isinstance(body, bytes) else json.dumps(body, sort_keys=True)


# Listing a finite schema.

LISTED = [
    pytest.param({"type": "boolean"}, [False, True], id="boolean"),
    pytest.param({"enum": ["a", "b", 3]}, ["a", "b", 3], id="enum"),
    pytest.param({"type": "string", "enum": ["a", 3]}, ["a"], id="enum-of-a-type"),
    pytest.param({"const": "x", "description": "annotated"}, ["x"], id="const"),
    pytest.param({"type": "object", "additionalProperties": False,
                  "properties": {"flag": {"type": "boolean"}}},
                 [{}, {"flag": False}, {"flag": True}], id="optional-property"),
    pytest.param({"type": "object", "additionalProperties": False, "required": ["flag"],
                  "properties": {"flag": {"type": "boolean"}}},
                 [{"flag": False}, {"flag": True}], id="required-property"),
    pytest.param({"type": "object", "additionalProperties": False, "required": ["gone"],
                  "properties": {}}, [], id="required-property-never-declared"),
]


@pytest.mark.parametrize(("schema", "expected"), LISTED)
def test_a_finite_schema_is_listed_whole(schema: dict[str, Any], expected: list[Any]) -> None:
    assert finite.instances(schema, limit=100) == expected


UNLISTED = [
    pytest.param({"type": "string"}, id="any-string"),
    pytest.param({}, id="anything"),
    pytest.param({"type": "object", "properties": {"flag": {"type": "boolean"}}},
                 id="object-open-to-other-properties"),
    pytest.param({"type": "string", "enum": ["a", "b"], "minLength": 2},
                 id="keyword-not-read-here"),
    pytest.param({"type": "object", "additionalProperties": False,
                  "properties": {name: {"type": "boolean"} for name in "abcdefgh"}},
                 id="more-than-the-limit"),
]


@pytest.mark.parametrize("schema", UNLISTED)
def test_a_schema_with_too_many_or_unread_instances_is_not_listed(schema: dict[str, Any]) -> None:
    assert finite.instances(schema, limit=100) is None


def test_the_valid_requests_of_a_location_are_six_bodies() -> None:
    bodies = finite.instances(aimed_request(LOCATION), limit=100)
    assert bodies is not None
    assert len(bodies) == 6  # markAsInvoiced true or false; version v1, v2 or left out
    assert len({json.dumps(body, sort_keys=True) for body in bodies}) == 6
    for body in bodies:
        assert VALID.is_valid(body), body
        assert body["altId"] == LOCATION


# Valid cases.

def test_every_valid_request_is_sent_when_fewer_than_asked_for() -> None:
    cases = valid_cases(100, estimate_ids=("e1", "e2"), location_id=LOCATION,
                        api_version="2021-07-28", profile="dev", seed=3)
    assert len(cases) == 12  # 6 bodies to each estimate
    assert len({_key(case) for case in cases}) == 12


def test_a_seeded_sample_of_valid_requests_is_sent_when_more_than_asked_for() -> None:
    def sample(seed: int) -> list[tuple[str, str]]:
        return [_key(case) for case in valid_cases(
            5, estimate_ids=("e1", "e2"), location_id=LOCATION, api_version="2021-07-28",
            profile="dev", seed=seed)]

    assert len(set(sample(3))) == 5
    assert sample(3) == sample(3)
    assert sample(3) != sample(4)


# Drawing.

def _drawn(seed: int, attempts: int = 20) -> list[Any]:
    return list(drawing.drawn(st.tuples(st.integers(), st.text()), attempts, seed))


def test_the_same_seed_draws_the_same_values() -> None:
    assert _drawn(5) == _drawn(5)
    assert _drawn(5) != _drawn(6)
    assert len(set(_drawn(5))) > 15  # drawn afresh each time, not the engine's near-repeats


def test_a_draw_the_strategy_rejects_yields_nothing() -> None:
    values = list(drawing.drawn(st.integers(0, 99).filter(lambda n: n % 10 == 3), 50, seed=1))
    assert 0 < len(values) < 50
    assert all(value % 10 == 3 for value in values)


def test_without_the_draw_record_it_knows_values_are_drawn_through_the_engine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drawing, "_draw_record", lambda: None)
    values = list(drawing.drawn(st.integers(0, 1000), 20, seed=1))
    assert 0 < len(values) <= 20
    assert values == list(drawing.drawn(st.integers(0, 1000), 20, seed=1))


# Invalid cases.

def _invalid(seed: int, count: int = 30) -> list[Any]:
    return invalid_cases(count, estimate_ids=("e1", "e2"), location_id=LOCATION,
                         api_version="2021-07-28", profile="dev", seed=seed)


def test_invalid_cases_are_as_many_as_asked_for_and_distinct() -> None:
    cases = _invalid(1)
    assert len(cases) == 30
    assert len({_key(case) for case in cases}) == 30
    assert {case.estimate_id for case in cases} == {"e1", "e2"}


def test_the_same_seed_draws_the_same_invalid_cases() -> None:
    assert [_key(case) for case in _invalid(9, 10)] == [_key(case) for case in _invalid(9, 10)]
    assert [_key(case) for case in _invalid(9, 10)] != [_key(case) for case in _invalid(10, 10)]
