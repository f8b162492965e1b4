"""The mock's rate limits: HighLevel's headers on every answer, 429 past the burst, per location."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from ghl_contract.judge import check_body
from ghl_contract.mock import MockApp, Running, load_seed, serve
from ghl_contract.mock.ratelimit import DAILY_LIMIT, RateLimiter

SEED = load_seed()
HOME, OTHER = SEED.locations
DOCUMENTED = "5f9d6d8b1b2d2c001f2d9e4b"


@pytest.fixture
def mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp(SEED, rate_limit=(3, 10.0))) as running:
        yield running


@pytest.fixture
def client(mock: Running[MockApp]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield http


def post(client: httpx.Client, token: str | None = HOME.token,
         estimate_id: str = DOCUMENTED, alt_id: str = HOME.location_id) -> httpx.Response:
    headers = {"Version": "2021-07-28"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(f"/invoices/estimate/{estimate_id}/invoice", headers=headers,
                       json={"altId": alt_id, "altType": "location", "markAsInvoiced": True})


def _limits(response: httpx.Response) -> tuple[str, ...]:
    return tuple(response.headers[f"x-ratelimit-{name}"] for name in (
        "max", "remaining", "interval-milliseconds", "limit-daily", "daily-remaining"))


def test_burst_limit_then_429_with_retry_after(client: httpx.Client,
                                               mock: Running[MockApp]) -> None:
    answers = [post(client) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    daily = str(DAILY_LIMIT)
    assert [_limits(a) for a in answers] == [
        ("3", "2", "10000", daily, str(DAILY_LIMIT - 1)),
        ("3", "1", "10000", daily, str(DAILY_LIMIT - 2)),
        ("3", "0", "10000", daily, str(DAILY_LIMIT - 3)),
        ("3", "0", "10000", daily, str(DAILY_LIMIT - 3)),  # a refused request does not count
    ]
    refused = answers[-1]
    assert refused.json() == {"statusCode": 429, "message": "Too many requests"}
    assert check_body(refused.content, "error", status=429,
                      content_type=refused.headers["content-type"]) == []
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert "retry-after" not in answers[0].headers
    assert len(mock.app.store.invoices()) == 3


def test_limit_is_per_location(client: httpx.Client) -> None:
    [other_estimate] = OTHER.estimates
    assert [post(client).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = post(client, OTHER.token, other_estimate, OTHER.location_id)
    assert (other.status_code, other.headers["x-ratelimit-remaining"]) == (200, "2")


def test_unknown_tokens_do_not_spend_a_location_budget(client: httpx.Client) -> None:
    unknown = [post(client, "not-a-mock-token") for _ in range(4)]
    anonymous = [post(client, None) for _ in range(4)]
    assert [a.status_code for a in unknown] == [401, 401, 401, 429]
    assert [a.status_code for a in anonymous] == [401, 401, 401, 429]
    assert all("x-ratelimit-remaining" in a.headers for a in unknown + anonymous)
    assert post(client).headers["x-ratelimit-remaining"] == "2"


def test_window_slides() -> None:
    with serve(MockApp(SEED, rate_limit=(1, 0.3))) as running, \
            httpx.Client(base_url=running.url) as http:
        assert [post(http).status_code for _ in range(2)] == [200, 429]
        time.sleep(0.35)
        assert post(http).status_code == 200


def test_limiter_counts_a_sliding_window_and_a_daily_quota() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, 10.0, daily_limit=3, clock=lambda: now[0])
    verdicts = []
    for at in (1000.0, 1005.0, 1009.9, 1010.0, 1016.0, 1020.0):
        now[0] = at
        verdicts.append(limiter.hit("location"))
    assert [(v.allowed, v.remaining, v.retry_after) for v in verdicts] == [
        (True, 1, 0), (True, 0, 0), (False, 0, 1), (True, 0, 0),
        (False, 1, 86384), (False, 2, 86380)]  # the daily quota of 3 is spent at 1010
    assert verdicts[4].daily_remaining == 0
    now[0] = 1000.0 + 86_400
    assert limiter.hit("location").allowed
    assert limiter.hit("another").remaining == 1
