"""The checks every operation of the mock runs before its own: token, Version, the body as it
travelled and against the operation's request schema, rate limit; each answer in the contract's
error shape, with HighLevel's rate-limit headers. Parametrised over the manifest, so a new
operation is covered as soon as it is served."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ghl_contract.judge import check_body
from ghl_contract.mock import MockApp, Running, load_seed, serve
from ghl_contract.mock.app import MAX_BODY
from ghl_contract.mock.testing import Caller, Options
from ghl_contract.registry import pinned

SEED = load_seed()
HOME = SEED.locations[0]
MANIFEST = pinned().manifest
OPERATIONS = [op.id for op in MANIFEST]
WITH_BODY = [op.id for op in MANIFEST if op.request is not None]
RATE_HEADERS = ("x-ratelimit-limit-daily", "x-ratelimit-daily-remaining",
                "x-ratelimit-interval-milliseconds", "x-ratelimit-max", "x-ratelimit-remaining")


@pytest.fixture(scope="module")
def mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp(SEED, rate_limit=(10_000, 1.0))) as running:
        yield running


@pytest.fixture(scope="module")
def home(mock: Running[MockApp]) -> Iterator[Caller]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield Caller(http, HOME.token, HOME.location_id)


@pytest.fixture
def objects(home: Caller) -> tuple[str, str]:
    """(an estimate id, an invoice id) of the home location, for the operations that name one."""
    estimate = home.create_estimate().json()["_id"]
    return estimate, home.convert(estimate, mark=False).json()["invoice"]["_id"]


def _refused(response: httpx.Response, status: int, operation_id: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert all(response.headers[name].isdigit() for name in RATE_HEADERS)
    assert response.json()["statusCode"] == status
    assert check_body(response.content, operation=MANIFEST.get(operation_id), status=status,
                      content_type=response.headers["content-type"]) == []


# Header cases: what is sent instead of the token's Authorization and Version 2021-07-28.
HEADERS = {
    "no-token": ({"Authorization": None}, 401),
    "unknown-token": ({"Authorization": "Bearer nobody"}, 401),
    "basic-scheme": ({"Authorization": "Basic bW9jazptb2Nr"}, 401),
    "no-version": ({"Version": None}, 400),
    "unknown-version": ({"Version": "2020-01-01"}, 400),
}


@pytest.mark.parametrize("operation_id", OPERATIONS)
@pytest.mark.parametrize("case", list(HEADERS))
def test_headers_are_checked_first(case: str, operation_id: str, home: Caller,
                                   objects: tuple[str, str], mock: Running[MockApp]) -> None:
    headers, status = HEADERS[case]
    before = (mock.app.store.invoices(), mock.app.store.estimates())
    response = home.call(operation_id, *objects, options={"headers": headers})
    _refused(response, status, operation_id)
    assert (mock.app.store.invoices(), mock.app.store.estimates()) == before


# Body cases: what is sent instead of the operation's valid JSON body.
BODIES: dict[str, tuple[Options, int]] = {
    "empty": ({"content": b""}, 400),
    "not-json": ({"content": b"{not json"}, 400),
    "too-large": ({"content": b'{"pad": "' + b"x" * MAX_BODY + b'"}'}, 413),
    "text-plain": ({"headers": {"Content-Type": "text/plain"}}, 400),
    "schema-refused": ({"content": b"{}"}, 422),
    "not-an-object": ({"content": b"[]"}, 422),
}


@pytest.mark.parametrize("operation_id", WITH_BODY)
@pytest.mark.parametrize("case", list(BODIES))
def test_bodies_are_checked_as_they_travelled_then_by_the_schema(
        case: str, operation_id: str, home: Caller, objects: tuple[str, str],
        mock: Running[MockApp]) -> None:
    options, status = BODIES[case]
    before = (mock.app.store.invoices(), mock.app.store.estimates())
    response = home.call(operation_id, *objects, options=options)
    _refused(response, status, operation_id)
    assert (mock.app.store.invoices(), mock.app.store.estimates()) == before


@pytest.mark.parametrize("operation_id", WITH_BODY)
def test_a_refused_body_names_each_problem(operation_id: str, home: Caller,
                                           objects: tuple[str, str]) -> None:
    response = home.call(operation_id, *objects, options={"content": b'{"altType": "company"}'})
    assert response.status_code == 422
    messages = response.json()["message"]
    assert "Required field /altId is missing." in messages
    assert any(m.startswith('/altType is "company", which is not one of') for m in messages)


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_answer_carries_the_rate_limit_headers(operation_id: str, home: Caller,
                                                     objects: tuple[str, str]) -> None:
    response = home.call(operation_id, *objects)
    assert 200 <= response.status_code < 300, response.text
    assert all(response.headers[name].isdigit() for name in RATE_HEADERS)


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_operation_counts_against_the_rate_limit(operation_id: str) -> None:
    with serve(MockApp(SEED, rate_limit=(2, 60.0))) as running, \
            httpx.Client(base_url=running.url, timeout=5.0) as http:
        home = Caller(http, HOME.token, HOME.location_id)
        estimate = home.create_estimate().json()["_id"]
        invoice = home.convert(estimate, mark=False).json()["invoice"]["_id"]
        refused = home.call(operation_id, estimate, invoice)
        invoices = running.app.store.invoices()
    _refused(refused, 429, operation_id)
    assert refused.json()["message"] == "Too many requests"
    assert int(refused.headers["retry-after"]) >= 1
    assert [i["_id"] for i in invoices] == [invoice]
