"""Generated requests: valid bodies (drawn from schemas/request.json) convert, invalid ones are 4xx.

The strategies are built from the request schema itself, so a change to the contract changes what
is generated: each documented property is drawn from its `enum` or its `type`; optional ones may
be left out, and undocumented fields may be added (the contract tolerates them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ghl_contract.judge import check_body
from ghl_contract.mock import MockApp, Running, load_seed, serve
from ghl_contract.registry import pinned

SEED = load_seed()
HOME, OTHER = SEED.locations
CONTRACT = pinned()
REQUEST_SCHEMA = CONTRACT.schema("request.json")
VERSIONS = CONTRACT.schema("headers.json")["properties"]["Version"]["enum"]
EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)  # JSON-encodable text
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53),
                    st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=10)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against `schema`, for the keywords the request schema uses."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return TEXT
    if kind == "boolean":
        return st.booleans()
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: from_schema(sub) for name, sub in properties.items() if name in required},
            optional={name: from_schema(sub) for name, sub in properties.items()
                      if name not in required},
        ).flatmap(lambda body: st.dictionaries(
            TEXT.filter(lambda key: key not in properties), JSON_VALUES, max_size=2
        ).map(lambda extra: {**extra, **body}))
    raise NotImplementedError(f"request.json uses {schema}; teach from_schema this keyword")


VALID_BODIES = from_schema(REQUEST_SCHEMA)


@st.composite
def invalid_bodies(draw: st.DrawFn) -> Any:
    """JSON the request schema refuses: a valid body with one field dropped or made wrong, or any
    other JSON value."""
    validator = CONTRACT.validator("request.json")
    how = draw(st.sampled_from(["drop-required", "wrong-value", "any-json"]))
    if how == "any-json":
        body = draw(JSON_VALUES)
    else:
        body = dict(draw(VALID_BODIES))
        if how == "drop-required":
            del body[draw(st.sampled_from(sorted(REQUEST_SCHEMA["required"])))]
        else:
            body[draw(st.sampled_from(sorted(REQUEST_SCHEMA["properties"])))] = draw(JSON_VALUES)
    assume(not validator.is_valid(body))
    return body


@pytest.fixture(scope="module")
def mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp(SEED, rate_limit=(100_000, 1.0))) as running:
        yield running


@pytest.fixture(scope="module")
def client(mock: Running[MockApp]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield http


def _post(client: httpx.Client, estimate_id: str, content: bytes, version: str = "2021-07-28",
          token: str = HOME.token) -> httpx.Response:
    return client.post(f"/invoices/estimate/{estimate_id}/invoice", content=content,
                       headers={"Authorization": f"Bearer {token}", "Version": version,
                                "Content-Type": "application/json"})


@EXAMPLES
@given(body=VALID_BODIES, estimate_id=st.sampled_from(list(HOME.estimates)),
       version=st.sampled_from(VERSIONS))
def test_valid_request_converts_and_the_answer_holds(client: httpx.Client, body: dict[str, Any],
                                                     estimate_id: str, version: str) -> None:
    body = {**body, "altId": HOME.location_id}  # the token's own location
    response = _post(client, estimate_id, json.dumps(body).encode(), version)
    assert response.status_code == 200, response.text
    assert check_body(response.content, status=200, content_type=response.headers["content-type"],
                      request=body, path={"estimateId": estimate_id}) == []
    assert response.json()["estimate"]["estimateStatus" if body["markAsInvoiced"] else "_id"] == (
        "invoiced" if body["markAsInvoiced"] else estimate_id)


@EXAMPLES
@given(body=VALID_BODIES)
def test_valid_body_for_another_location_is_403(client: httpx.Client,
                                                body: dict[str, Any]) -> None:
    assume(body["altId"] != HOME.location_id)
    response = _post(client, next(iter(HOME.estimates)), json.dumps(body).encode())
    assert response.status_code == 403
    assert check_body(response.content, "error", status=403,
                      content_type=response.headers["content-type"]) == []


@EXAMPLES
@given(body=invalid_bodies(), estimate_id=st.one_of(st.sampled_from(list(HOME.estimates)),
                                                    st.just("no-such-estimate")))
def test_invalid_body_is_422_with_the_documented_shape(client: httpx.Client, body: Any,
                                                       estimate_id: str) -> None:
    response = _post(client, estimate_id, json.dumps(body).encode())
    assert response.status_code == 422, response.text
    assert check_body(response.content, "error", status=422,
                      content_type=response.headers["content-type"]) == []
    assert response.json()["message"]  # at least one problem, each naming its field


def _strict_json(content: bytes) -> bool:
    """Whether `content` is JSON as RFC 8259 has it: UTF-8, no NaN or Infinity."""
    def refuse(constant: str) -> None:
        raise ValueError(constant)
    try:
        json.loads(content.decode("utf-8"), parse_constant=refuse)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False
    return True


@EXAMPLES
@given(content=st.one_of(st.binary(max_size=60),
                         JSON_VALUES.map(lambda value: json.dumps(value).encode()[:-1])))
def test_bodies_that_are_not_json_are_400_never_5xx(client: httpx.Client,
                                                    content: bytes) -> None:
    response = _post(client, next(iter(HOME.estimates)), content)
    status = response.status_code
    # Not JSON is 400; what happens to be JSON (a number, a string...) the schema refuses: 422.
    assert status in ({400, 422} if _strict_json(content) else {400}), response.text
    assert check_body(response.content, "error", status=status,
                      content_type=response.headers["content-type"]) == []
