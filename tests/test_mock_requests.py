"""The mock answers each request case of tests/mock_cases/requests.json as documented, over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghl_contract.judge import check_body
from ghl_contract.mock import MockApp, Running, load_seed, serve
from ghl_contract.resources import example_path

CASES = json.loads((Path(__file__).parent / "mock_cases" / "requests.json").read_text("utf-8"))
DOCUMENTED_REQUEST = json.loads(example_path("request").read_text("utf-8"))
SEED = load_seed()
HOME, OTHER = SEED.locations
DOCUMENTED_ESTIMATE = "5f9d6d8b1b2d2c001f2d9e4b"
RATE_HEADERS = ("x-ratelimit-limit-daily", "x-ratelimit-daily-remaining",
                "x-ratelimit-interval-milliseconds", "x-ratelimit-max", "x-ratelimit-remaining")


@pytest.fixture(scope="module")
def mock() -> Iterator[Running[MockApp]]:
    # One server for every case: a limit no case reaches, as the cases are not about it.
    with serve(MockApp(SEED, rate_limit=(10_000, 1.0))) as running:
        yield running


@pytest.fixture(scope="module")
def client(mock: Running[MockApp]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield http


def _request(case: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    headers: dict[str, str | None] = {"Authorization": f"Bearer {HOME.token}",
                                      "Version": "2021-07-28",
                                      "Content-Type": "application/json"}
    headers.update(case.get("headers", {}))
    if "raw" in case:
        content = case["raw"].encode()
    else:
        body = case.get("body", DOCUMENTED_REQUEST)
        if "body_changes" in case:
            body = {**body, **case["body_changes"]}
            body = {key: value for key, value in body.items() if value is not None}
        content = json.dumps(body).encode()
    estimate = case.get("estimate", DOCUMENTED_ESTIMATE)
    if estimate == "other-location":
        [estimate] = OTHER.estimates
    sent = {name: value for name, value in headers.items() if value is not None}
    return estimate, sent, content


@pytest.mark.parametrize("case", CASES["cases"], ids=[case["id"] for case in CASES["cases"]])
def test_request_case(case: dict[str, Any], client: httpx.Client) -> None:
    estimate_id, headers, content = _request(case)
    response = client.post(f"/invoices/estimate/{estimate_id}/invoice", headers=headers,
                           content=content)
    assert response.status_code == case["status"], response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert all(response.headers[name].isdigit() for name in RATE_HEADERS)
    body = response.json()
    if case["status"] == 200:
        request = json.loads(content)
        assert check_body(response.content, status=200,
                          content_type=response.headers["content-type"], request=request,
                          path={"estimateId": estimate_id}) == []
        assert body["estimate"]["_id"] == estimate_id
    else:
        assert check_body(response.content, "error", status=case["status"],
                          content_type=response.headers["content-type"]) == []
        assert body["statusCode"] == case["status"]
        if "message" in case:
            assert body["message"] == case["message"]
        else:  # every error case states its message, whole or in parts
            messages = body["message"] if isinstance(body["message"], list) else [body["message"]]
            for part in case["message_has"]:
                assert all(part in message for message in messages), (part, messages)
