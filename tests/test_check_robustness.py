"""Any JSON at any place of a documented payload: no exception, and every finding points at it."""

from __future__ import annotations

import copy
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ghl_contract.cli import run
from ghl_contract.judge import check_body, check_payload
from ghl_contract.resources import example_path

RESPONSE = json.loads(example_path("response-200").read_text(encoding="utf-8"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


PATHS = list(_paths(RESPONSE))


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    document = copy.deepcopy(document)
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), value=json_values)
def test_one_replaced_value_is_found_where_it_was_put(path: tuple[Any, ...], value: Any) -> None:
    payload = _replace(RESPONSE, path, value)
    at = _pointer(path)
    parent = at.rsplit("/", 1)[0]
    for finding in check_payload(payload, "response"):
        # a schema finding is at the replaced value or inside it, or names a field the new value
        # makes required (frequencySettings.enabled true needs a schedule); an invariant may name
        # the total or amount that the new value no longer adds up to
        assert (finding.pointer == at or finding.pointer.startswith(at + "/")
                or (finding.rule == "missing-required"
                    and finding.pointer.rsplit("/", 1)[0] == parent)
                or finding.rule in ("total-mismatch", "amount-due-mismatch",
                                    "currency-mismatch", "location-mismatch")), (at, finding)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(["error", "estimate", "invoice", "request", "response"]),
       value=json_values,
       status=st.sampled_from([None, 200, 400, 401, 403, 404, 422, 429, 418]))
def test_any_json_of_any_kind_is_judged_without_an_exception(kind: str, value: Any,
                                                             status: int | None) -> None:
    for finding in check_payload(value, kind, status=status if kind == "error" else None):
        assert finding.message.endswith(".")


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=64), status=st.sampled_from([None, 200, 404, 422, 500]),
       content_type=st.sampled_from([None, "application/json", "text/html"]))
def test_any_bytes_as_a_body_are_judged_without_an_exception(
        body: bytes, status: int | None, content_type: str | None) -> None:
    kind = "response" if status in (None, 200) else "error"
    for finding in check_body(body, kind, status=status, content_type=content_type):
        assert finding.message.endswith(".")


entries = st.lists(st.one_of(
    json_values,
    st.fixed_dictionaries({
        "request": st.fixed_dictionaries(
            {"method": st.sampled_from(["POST", "post", "GET", 5]),
             "url": st.sampled_from(["https://h.test/invoices/estimate/e1/invoice",
                                     "/invoices/estimate//invoice", None])},
            optional={"postData": st.one_of(json_values, st.fixed_dictionaries(
                {"text": st.one_of(st.text(max_size=20), json_values)}))}),
        "response": st.one_of(json_values, st.fixed_dictionaries(
            {"status": st.one_of(st.sampled_from([0, 200, 422, 502, True, "200"]), json_values)},
            optional={"content": st.one_of(json_values, st.fixed_dictionaries(
                {"text": st.one_of(st.text(max_size=20), json_values)},
                optional={"encoding": st.sampled_from(["base64", "gzip"]),
                          "mimeType": st.one_of(st.text(max_size=8), json_values)}))}))})),
    max_size=4)


@settings(max_examples=150, deadline=None)
@given(har=st.one_of(json_values, st.fixed_dictionaries(
    {"log": st.one_of(json_values, st.fixed_dictionaries({"entries": entries}))})))
def test_any_har_shape_ends_in_an_exit_code(har: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "capture.har"
        path.write_text(json.dumps(har), encoding="utf-8")
        stdout, stderr = io.StringIO(), io.StringIO()
        assert run(["check", str(path), "--format", "json"], stdout, stderr) in (0, 1, 2)
        assert json.loads(stdout.getvalue())["summary"]["checked"] >= 0
